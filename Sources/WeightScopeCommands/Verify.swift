import ArgumentParser
import WeightScope
import WeightScopeAnalysis
import WeightScopeCheck
import WeightScopeCore
import WeightScopeReport
import WeightScopeSpec

/// `weightscope verify CHECKPOINT --spec SPEC`: does the checkpoint hold the architecture the
/// spec describes, tensor by tensor?
public struct Verify: ParsableCommand, OutputCommand {
  public static let configuration = CommandConfiguration(
    abstract: "Check that a checkpoint matches an architecture spec (or another checkpoint).",
    discussion: """
      Layers are matched by state_dict name when the checkpoint kept names, by order otherwise;
      wrapper prefixes (module., _orig_mod., model.) are detected and removed. Prints one line
      per layer and a verdict; exits 0 when everything matches, 1 otherwise.
      """
  )

  @Argument(help: "The checkpoint to check: any format weightscope reads.")
  var checkpoint: String

  @Option(help: "The architecture: a .py or .json spec, or another checkpoint.")
  var spec: String

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @OptionGroup(title: "Budgets")
  var budget: BudgetOptions

  public init() {}

  public func run() throws { try runAndExit() }

  public func execute() -> CommandOutput {
    var output = CommandOutput()
    let expected: TensorLayout
    do {
      expected = try Verify.layout(of: spec)
    } catch {
      output.error("\(error)")
      output.fail(ExitStatus.unreadable)
      return output
    }
    let analysis: Analysis
    do {
      analysis = try WeightFileReader.inspect(path: checkpoint)
    } catch {
      output.unreadable(checkpoint, error)
      return output
    }
    let verification = Verification(spec: expected, file: TensorLayout(analysis: analysis))
    switch format {
    case .text: output.write(verification.renderText())
    case .json: output.print(Verify.document(verification).serialized())
    }
    if !verification.matches { output.fail(ExitStatus.checkFailed) }
    budget.enforce(
      BudgetSubject(analysis: analysis), label: checkpoint, json: format == .json, output: &output)
    return output
  }

  /// A spec's implied tensors, or a checkpoint's own when `path` is a weight file.
  static func layout(of path: String) throws -> TensorLayout {
    let bytes = try FileBytes(path: path)
    if WeightFileReader.detect(bytes.reader()) != .unknown {
      return TensorLayout(analysis: analyze(try WeightFileReader.read(bytes, path: path)))
    }
    return try TensorLayout(spec: SpecParser.parse(path: path))
  }

  /// The `weightscope.verify/1` document.
  static func document(_ v: Verification) -> JSONValue {
    func shape(_ s: [Int]?) -> JSONValue { s.map { .array($0.map(JSONValue.int)) } ?? .null }
    let layers: [JSONValue] = v.layers.map { layer in
      .object([
        ("name", .string(layer.name)), ("type", .string(layer.type)),
        ("status", .string(layer.matches ? "match" : layer.status.rawValue)),
        (
          "tensors",
          .array(
            layer.tensors.map { t in
              var m: [(String, JSONValue)] = [
                ("name", .string(t.name)), ("status", .string(t.status.rawValue)),
                ("expected", shape(t.expected)), ("actual", shape(t.actual)),
              ]
              if let f = t.fileName { m.append(("fileName", .string(f))) }
              return .object(m)
            })
        ),
      ])
    }
    return .object([
      ("schema", .string("weightscope.verify/1")),
      ("spec", .string(v.spec.source)),
      ("checkpoint", .string(v.file.source)),
      ("matching", .string(v.matching.rawValue)),
      ("strippedPrefixes", .array(v.strippedFromFile.map(JSONValue.string))),
      ("matches", .bool(v.matches)),
      ("layers", .array(layers)),
    ])
  }
}
