import Foundation
import WeightScopeSpec

/// `TestModels/specs/<name>`, found from this file's place in the checkout.
func specPath(_ name: String) -> String {
  URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TestModels/specs/\(name)").path
}

/// The error `body` throws, or nil when it throws none.
func specError(_ body: () throws(SpecError) -> Void) -> SpecError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}

/// The error reading `source` as Python throws.
func pythonError(_ source: String, file: String = "model.py") -> SpecError? {
  specError { () throws(SpecError) in _ = try SpecParser.parsePython(source, file: file) }
}
