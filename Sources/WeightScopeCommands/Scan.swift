import ArgumentParser
import WeightScopeCore
import WeightScopeModel
import WeightScopeReport
import WeightScopeScan

/// `weightscope scan FILE...`: a security verdict per file, found without running anything.
public struct Scan: ParsableCommand, OutputCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Check weight files for code that loading them would run, and for hidden data.",
    discussion: """
      Judges every global every pickle in the file references against an allowlist of what
      torch.save writes, and audits zip archives (local headers vs. directory, duplicate names,
      overlapping entries, data before the archive, hidden end records, CRC errors). Prints one
      verdict per file: clean, suspicious or dangerous, with the findings.

      Exit codes: 0 every file clean; 1 a file is suspicious or dangerous; 2 a file could not
      be read; 64 bad usage.
      """
  )

  @Argument(help: "Files to scan: PyTorch checkpoints, pickles, ONNX models.")
  var files: [String]

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @OptionGroup var limitOptions: LimitOptions

  public init() {}

  public func validate() throws {
    if files.isEmpty { throw ValidationError("Give at least one file.") }
  }

  public func run() throws { try runAndExit() }

  public func execute() -> CommandOutput {
    var output = CommandOutput()
    for path in files {
      let result: ScanResult
      do {
        result = try Scanner.scan(path: path, limits: limitOptions.limits)
      } catch {
        output.error("\(path): \(error)")
        output.fail(ExitStatus.unreadable)
        continue
      }
      if result.verdict != .clean { output.fail(ExitStatus.checkFailed) }
      switch format {
      case .text:
        output.print("\(path): \(result.verdict.rawValue)")
        for finding in result.findings {
          output.print("  \(finding.severity.rawValue) \(finding.code): \(finding.message)")
        }
      case .json:
        output.print(Self.json(result))
      }
    }
    return output
  }

  /// One JSON document: `{"schema":"weightscope.scan/1","file":...,"verdict":...,"findings":[...]}`.
  static func json(_ result: ScanResult) -> String {
    let findings: [JSONValue] = result.findings.map { f in
      var members: [(String, JSONValue)] = [
        ("severity", .string(f.severity.rawValue)), ("code", .string(f.code)),
        ("message", .string(f.message)),
      ]
      if let offset = f.offset { members.append(("offset", .int(offset))) }
      return .object(members)
    }
    return JSONValue.object([
      ("schema", .string("weightscope.scan/1")), ("file", .string(result.path)),
      ("kind", .string(result.kind)), ("verdict", .string(result.verdict.rawValue)),
      ("findings", .array(findings)),
    ]).serialized()
  }
}
