import WeightScopeAnalysis
import WeightScopeModel

/// A human-readable report: header, one row per layer with its formula, totals, findings.
public enum TextReport {
  public struct Options: Sendable, Equatable {
    /// Adds a table of every tensor.
    public var tensors: Bool
    /// Names longer than this keep their tail after `...`.
    public var maxNameWidth: Int

    public init(tensors: Bool = false, maxNameWidth: Int = 48) {
      self.tensors = tensors
      self.maxNameWidth = maxNameWidth
    }
  }

  public static func render(_ analysis: Analysis, options: Options = Options()) -> String {
    String(decoding: bytes(analysis, options: options), as: UTF8.self)
  }

  /// ``render(_:options:)`` as the UTF-8 bytes it is written in: the tables are laid out
  /// straight into them, with no string made per line.
  public static func bytes(_ analysis: Analysis, options: Options = Options()) -> [UInt8] {
    var out: [UInt8] = []
    func line(_ text: String) {
      out.append(contentsOf: text.utf8)
      out.append(0x0A)
    }
    line("File:    \(analysis.file.path)")
    line("Format:  \(analysis.file.format.rawValue)")
    for fact in analysis.file.facts { line("\(fact.key): \(fact.value)") }
    line("")
    layerTable(analysis, options, into: &out)
    line("")
    totalsBlock(analysis.totals).forEach(line)
    if options.tensors {
      line("")
      tensorTable(analysis, options).write(into: &out)
    }
    let notes = analysis.layers.flatMap { layer in
      layer.notes.map { "  \(layerName(layer.name)): \($0)" }
    }
    if !notes.isEmpty {
      line("")
      line("Notes:")
      notes.forEach(line)
    }
    line("")
    if analysis.findings.isEmpty {
      line("Findings: none")
    } else {
      line("Findings:")
      for f in analysis.findings {
        let at = f.offset.map { " (at 0x" + String($0, radix: 16) + ")" } ?? ""
        line("  \(f.severity.rawValue) \(f.code): \(f.message)\(at)")
      }
    }
    return out
  }

  static func layerName(_ name: String) -> String { name.isEmpty ? "(root)" : name }

  static func layerTable(_ analysis: Analysis, _ options: Options, into out: inout [UInt8]) {
    var table = Table(
      header: [
        "Layer", "Kind", "Weight shape", "Bias shape", "Params", "Non-trainable", "Formula",
      ],
      alignments: [.left, .left, .left, .left, .right, .right, .left])
    var hidden = 0
    var hiddenElements = 0
    let all = analysis.tensors
    table.rows.reserveCapacity(analysis.layers.count)  // A row per layer, a few with a second.
    for layer in analysis.layers {
      if layer.kind == .constants || layer.kind == .optimizer {
        hidden += 1
        hiddenElements = sum([hiddenElements, layer.constants, layer.optimizerState])
        continue
      }
      let indices = layer.tensorIndices
      // The first weight and bias, read in place.
      var weight: String?
      var bias: String?
      for i in indices where weight == nil || bias == nil {
        let role = all[i].role
        if role == .weight, weight == nil { weight = shapeText(all[i].info.shape) }
        if role == .bias, bias == nil { bias = shapeText(all[i].info.shape) }
      }
      var formula = ""
      var second = ""
      if let check = layer.formula {
        let f = check.formula
        if f.nonTrainable == 0 || f.trainable == 0 {
          formula = "\(check.text) = \(grouped(check.expected))"
        } else {
          formula = "\(f.trainableText) = \(grouped(f.trainable))"
        }
        if !check.matches { formula += "  MISMATCH: tensors hold \(grouped(check.actual))" }
      }
      if layer.nonTrainable > 0 { second = nonTrainableText(indices.map { all[$0] }) }
      table.rows.append([
        capped(layerName(layer.name), options.maxNameWidth), layer.kind.rawValue, weight ?? "",
        bias ?? "",
        grouped(layer.trainable), layer.nonTrainable > 0 ? grouped(layer.nonTrainable) : "",
        formula,
      ])
      if !second.isEmpty { table.rows.append(["", "", "", "", "", "", second]) }
    }
    table.write(into: &out)
    if hidden > 0 {
      let more =
        "(\(hidden) more layer\(hidden == 1 ? " holds" : "s hold") only graph constants or optimizer state: "
        + "\(grouped(hiddenElements)) elements)"
      out.append(contentsOf: more.utf8)
      out.append(0x0A)
    }
  }

  /// `running_mean/var 2x[64] = 128, num_batches_tracked 1`.
  static func nonTrainableText(_ tensors: [AnalyzedTensor]) -> String {
    var parts: [String] = []
    let params = tensors.filter { $0.isParameter && !$0.trainable }
    let mean = params.first { $0.role == .runningMean }
    let variance = params.first { $0.role == .runningVar }
    if let m = mean, let v = variance, m.info.shape == v.info.shape {
      parts.append(
        "running_mean/var 2x\(shapeText(m.info.shape)) = \(grouped(sum([m.countedElements, v.countedElements])))"
      )
    }
    for t in params {
      if let m = mean, let v = variance, m.info.shape == v.info.shape,
        t.role == .runningMean || t.role == .runningVar
      {
        continue
      }
      if t.role == .numBatchesTracked {
        parts.append("\(t.localName) \(grouped(t.countedElements))")
      } else {
        parts.append(
          "\(t.localName) \(shapeText(t.info.shape)) = \(grouped(t.countedElements)) (\(t.rule.rawValue))"
        )
      }
    }
    return parts.joined(separator: ", ")
  }

  static func totalsBlock(_ t: Totals) -> [String] {
    var rows: [(String, Int, String)] = [
      ("Total params:", t.parameters, ""),
      ("Trainable params:", t.trainable, ""),
      ("Non-trainable params:", t.nonTrainable, breakdown(t.nonTrainableBreakdown)),
    ]
    if t.constants > 0 {
      rows.append(("Constants:", t.constants, "(graph shape, axes and index operands)"))
    }
    if t.optimizerState > 0 { rows.append(("Optimizer state:", t.optimizerState, "")) }
    let width = rows.map { grouped($0.1).count }.max() ?? 0
    var lines = rows.map { label, value, extra in
      padRight(label, 23) + padLeft(grouped(value), width) + (extra.isEmpty ? "" : "   " + extra)
    }
    let dtypes = t.byDType.map { "\($0.dtype.rawValue) \(grouped($0.elements))" }.joined(
      separator: " · ")
    lines.append(padRight("Size:", 23) + byteSize(t.bytes) + (dtypes.isEmpty ? "" : " (\(dtypes))"))
    return lines
  }

  /// `(running_mean/var 896, num_batches_tracked 3)`; empty when nothing is non-trainable.
  static func breakdown(_ b: Totals.NonTrainable) -> String {
    var parts: [String] = []
    if b.runningStats > 0 { parts.append("running_mean/var \(grouped(b.runningStats))") }
    if b.numBatchesTracked > 0 {
      parts.append("num_batches_tracked \(grouped(b.numBatchesTracked))")
    }
    if b.buffers > 0 { parts.append("buffers \(grouped(b.buffers))") }
    if b.frozen > 0 { parts.append("frozen \(grouped(b.frozen))") }
    return parts.isEmpty ? "" : "(" + parts.joined(separator: ", ") + ")"
  }

  static func tensorTable(_ analysis: Analysis, _ options: Options) -> Table {
    var table = Table(
      header: [
        "Tensor", "Shape", "DType", "Elements", "Bytes", "Role", "Trainable", "Shared with",
      ],
      alignments: [.left, .left, .left, .right, .right, .left, .left, .left])
    for t in analysis.tensors {
      let trainable: String
      switch t.role {
      case .constant, .optimizerState: trainable = "- (\(t.rule.rawValue))"
      default: trainable = "\(t.trainable ? "yes" : "no") (\(t.rule.rawValue))"
      }
      table.rows.append([
        capped(t.info.name, options.maxNameWidth), shapeText(t.info.shape), t.info.dtype.rawValue,
        grouped(t.info.elements), grouped(t.info.bytes), t.role.rawValue, trainable,
        t.info.sharedWith.map { capped($0, options.maxNameWidth) } ?? "",
      ])
    }
    return table
  }
}
