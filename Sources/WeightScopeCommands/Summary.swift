import ArgumentParser
import WeightScopeAnalysis
import WeightScopeCheck
import WeightScopeReport
import WeightScopeSpec

/// `weightscope summary SPEC --input 3x32x32`: a Keras/torchinfo-style summary computed from
/// the formulas alone, with no checkpoint.
public struct Summary: ParsableCommand, OutputCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Summarize an architecture spec: output shapes and parameter counts by formula.",
    discussion: """
      SPEC is PyTorch source building an nn.Sequential (read, never run) or a JSON spec.
      With --format json, prints one weightscope.summary/1 document.
      """
  )

  @Argument(help: "An architecture spec: .py (nn.Sequential source) or .json.")
  var spec: String

  @Option(
    help: ArgumentHelp(
      "Per-sample input shape, batch excluded: 3x32x32. Defaults to the spec's own.",
      valueName: "shape"),
    transform: Summary.shape)
  var input: [Int]?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @OptionGroup(title: "Budgets")
  var budget: BudgetOptions

  public init() {}

  static func shape(_ text: String) throws -> [Int] {
    do { return try parseShape(text) } catch { throw ValidationError("--input '\(text)': \(error)") }
  }

  public func run() throws { try runAndExit() }

  public func execute() -> CommandOutput {
    var output = CommandOutput()
    let summary: ModelSummary
    do {
      summary = try ModelSummary(spec: SpecParser.parse(path: spec), input: input)
    } catch {
      output.error("\(error)")
      output.fail(ExitStatus.unreadable)
      return output
    }
    switch format {
    case .text: output.write(summary.renderText())
    case .json: output.print(Summary.document(summary).serialized())
    }
    budget.enforce(
      BudgetSubject(summary: summary), label: spec, json: format == .json, output: &output)
    return output
  }

  /// The `weightscope.summary/1` document.
  static func document(_ s: ModelSummary) -> JSONValue {
    func shape(_ shape: [Int]?) -> JSONValue {
      shape.map { .array($0.map(JSONValue.int)) } ?? .null
    }
    let layers: [JSONValue] = s.rows.map { row in
      var members: [(String, JSONValue)] = [
        ("name", .string(row.path)), ("type", .string(row.type)), ("output", shape(row.output)),
        ("parameters", .int(row.parameters)), ("trainable", .int(row.trainable)),
        ("nonTrainable", .int(row.nonTrainable)),
      ]
      if !row.formula.terms.isEmpty {
        members.append(("formula", .string(row.formula.text)))
      }
      members.append(
        (
          "tensors",
          .array(
            row.formula.tensors.map {
              .object([
                ("name", .string($0.name)), ("shape", .array($0.shape.map(JSONValue.int))),
                ("trainable", .bool($0.trainable)),
              ])
            })
        ))
      return .object(members)
    }
    return .object([
      ("schema", .string("weightscope.summary/1")),
      ("spec", .string(s.file)),
      ("input", shape(s.input)),
      ("output", shape(s.output)),
      ("layers", .array(layers)),
      (
        "totals",
        .object([
          ("parameters", .int(s.parameters)), ("trainable", .int(s.trainable)),
          ("nonTrainable", .int(s.nonTrainable)), ("runningStats", .int(s.runningStats)),
          ("numBatchesTracked", .int(s.counters)), ("bytes", .int(s.bytes)),
        ])
      ),
    ])
  }
}
