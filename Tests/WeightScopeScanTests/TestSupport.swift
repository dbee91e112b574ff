import Testing
import WeightScope
import WeightScopeCore

/// The folder of this test target.
let testFolder: String = {
  let here = String(#filePath)
  return String(here[..<(here.lastIndex(of: "/") ?? here.startIndex)])
}()

/// The repository root.
let repositoryRoot: String = {
  var path = testFolder
  for _ in 0..<2 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
  return path
}()

/// A file of the malformed corpus (written by tools/make_malformed_corpus.py).
func malformed(_ name: String) -> String { "\(testFolder)/Malformed/\(name)" }

/// `kind@offset` of the error reading `path` throws, or `"read"` when it reads.
func readOutcome(_ path: String, limits: Limits = .default) -> String {
  do {
    _ = try WeightFileReader.read(path: path, limits: limits)
    return "read"
  } catch {
    return "\(error.kind.rawValue)@\(error.offset.map(hex) ?? "nil")"
  }
}
