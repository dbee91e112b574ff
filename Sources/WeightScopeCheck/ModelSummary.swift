import WeightScopeAnalysis
import WeightScopeModel
import WeightScopeSpec

/// What Keras' and torchinfo's summaries print for a spec, from the formulas alone.
public struct ModelSummary: Sendable, Equatable {
  /// One layer of the spec (containers left out: their children have rows of their own).
  public struct Row: Sendable, Equatable {
    /// `named_modules()` name: `0`, `classifier.fc1`.
    public var path: String
    /// The `torch.nn` class name.
    public var type: String
    /// Per-sample output shape; nil without an input shape.
    public var output: [Int]?
    public var formula: Formula

    public var trainable: Int { formula.trainable }
    public var nonTrainable: Int { formula.nonTrainable }
    public var parameters: Int { formula.total }
    /// Bytes of its tensors: float32 everywhere, int64 for `num_batches_tracked`.
    public var bytes: Int {
      saturatingSum(
        formula.tensors.map { t in
          let n = t.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
          return n.multipliedReportingOverflow(by: t.role == .numBatchesTracked ? 8 : 4)
            .partialValue
        })
    }
  }

  public var file: String
  public var input: [Int]?
  public var rows: [Row]

  /// Every predicted element: trainable + non-trainable.
  public var parameters: Int { saturatingSum(rows.map(\.parameters)) }
  public var trainable: Int { saturatingSum(rows.map(\.trainable)) }
  public var nonTrainable: Int { saturatingSum(rows.map(\.nonTrainable)) }
  /// `running_mean` and `running_var` elements.
  public var runningStats: Int {
    saturatingSum(
      rows.flatMap(\.formula.tensors).filter { $0.role == .runningMean || $0.role == .runningVar }
        .map { $0.shape.reduce(1, *) })
  }
  /// `num_batches_tracked` counters.
  public var counters: Int {
    rows.flatMap(\.formula.tensors).filter { $0.role == .numBatchesTracked }.count
  }
  public var bytes: Int { saturatingSum(rows.map(\.bytes)) }
  /// The shape the last layer gives.
  public var output: [Int]? { rows.last?.output }
}

extension ModelSummary {
  /// Summarizes `spec` for a per-sample `input` shape (the spec's own when nil; no shapes
  /// when neither is known).
  ///
  /// - Throws: the ``SpecError`` of the first layer whose shape or arguments do not fit.
  public init(spec: Spec, input: [Int]? = nil) throws(SpecError) {
    let shape = input ?? spec.input
    var outputs: [String: [Int]] = [:]
    if let shape {
      for m in try outputShapes(spec, input: shape) { outputs[m.path] = m.output }
    }
    var rows: [Row] = []
    for module in spec.allModules where module.type != "Sequential" {
      rows.append(
        Row(
          path: module.path, type: module.type, output: outputs[module.path],
          formula: try SpecFormula.formula(for: module, file: spec.file)))
    }
    self.init(file: spec.file, input: shape, rows: rows)
  }

  /// The table, then the totals, as text.
  public func renderText() -> String {
    var table = TextTable(
      header: ["Layer", "Type", "Output shape", "Params", "Non-trainable", "Formula"],
      right: [3, 4])
    for row in rows {
      let f = row.formula
      var formula = ""
      if f.trainable > 0 { formula = "\(f.trainableText) = \(groupedDigits(f.trainable))" }
      if f.nonTrainable > 0 {
        formula += (formula.isEmpty ? "" : "; ") + "running stats \(f.nonTrainableText)"
      }
      table.rows.append([
        row.path, row.type, crossed(row.output), groupedDigits(row.trainable),
        row.nonTrainable > 0 ? groupedDigits(row.nonTrainable) : "", formula,
      ])
    }
    var lines = ["Spec:    \(file)", "Input:   \(crossed(input))", ""]
    lines += table.render()
    lines.append("")
    var breakdown: [String] = []
    if runningStats > 0 { breakdown.append("running_mean/var \(groupedDigits(runningStats))") }
    if counters > 0 { breakdown.append("num_batches_tracked \(groupedDigits(counters))") }
    let breakdownText = breakdown.isEmpty ? "" : "   (" + breakdown.joined(separator: ", ") + ")"
    let totals: [(String, String, String)] = [
      ("Total params:", groupedDigits(parameters), ""),
      ("Trainable params:", groupedDigits(trainable), ""),
      ("Non-trainable params:", groupedDigits(nonTrainable), breakdownText),
    ]
    let width = totals.map(\.1.count).max() ?? 0
    for (label, value, extra) in totals {
      lines.append(
        label + String(repeating: " ", count: 23 - label.count)
          + String(repeating: " ", count: width - value.count) + value + extra)
    }
    lines.append("Size:                  \(binarySize(bytes)) (float32, \(groupedDigits(bytes)) bytes)")
    return lines.joined(separator: "\n") + "\n"
  }
}
