import ArgumentParser
import WeightScopeAnalysis
import WeightScopeCheck

/// `--max-params`, `--max-trainable`, `--max-bytes`: shared by `inspect`, `summary` and
/// `verify`.
public struct BudgetOptions: ParsableArguments, Sendable {
  @Option(
    help: ArgumentHelp(
      "Fail (exit 1) above this many parameters, trainable and not: 5852234, 5_852_234, 5.9M, 6e6.",
      valueName: "count"),
    transform: BudgetOptions.count)
  var maxParams: Int?

  @Option(
    help: ArgumentHelp("Fail (exit 1) above this many trainable parameters.", valueName: "count"),
    transform: BudgetOptions.count)
  var maxTrainable: Int?

  @Option(
    help: ArgumentHelp(
      "Fail (exit 1) above this size: 23412544, 25MB, 24MiB.", valueName: "size"),
    transform: BudgetOptions.bytes)
  var maxBytes: Int?

  public init() {}

  var budget: Budget { Budget(maxParams: maxParams, maxTrainable: maxTrainable, maxBytes: maxBytes) }

  static func count(_ text: String) throws -> Int {
    do { return try Budget.parseCount(text) } catch { throw ValidationError("\(error)") }
  }

  static func bytes(_ text: String) throws -> Int {
    do { return try Budget.parseBytes(text) } catch { throw ValidationError("\(error)") }
  }

  /// Checks `subject` and reports every excess on `output` (stderr when stdout holds JSON),
  /// failing with exit status 1.
  func enforce(_ subject: BudgetSubject, label: String, json: Bool, output: inout CommandOutput) {
    let excesses = budget.check(subject)
    guard !excesses.isEmpty else { return }
    for excess in excesses {
      var lines = excess.lines
      lines[0] = "\(label): " + lines[0]
      if json {
        for line in lines { output.stderr += line + "\n" }
      } else {
        for line in lines { output.print(line) }
      }
    }
    output.fail(ExitStatus.checkFailed)
  }
}

extension BudgetSubject {
  /// An analyzed file's totals and layers.
  init(analysis: Analysis) {
    let layers = analysis.layers.map { layer in
      var bytes = 0
      for i in layer.tensorIndices where i < analysis.tensors.count && analysis.tensors[i].isParameter {
        let (s, o) = bytes.addingReportingOverflow(analysis.tensors[i].countedBytes)
        bytes = o ? Int.max : s
      }
      return Layer(
        name: layer.name.isEmpty ? "(root)" : layer.name, type: layer.kind.rawValue,
        parameters: layer.parameters, trainable: layer.trainable, bytes: bytes)
    }
    self.init(
      parameters: analysis.totals.parameters, trainable: analysis.totals.trainable,
      bytes: analysis.totals.bytes, layers: layers)
  }

  /// A spec summary's totals and rows.
  init(summary: ModelSummary) {
    self.init(
      parameters: summary.parameters, trainable: summary.trainable, bytes: summary.bytes,
      layers: summary.rows.map {
        Layer(
          name: $0.path, type: $0.type, parameters: $0.parameters, trainable: $0.trainable,
          bytes: $0.bytes)
      })
  }
}
