import WeightScopeAnalysis
import WeightScopeCore
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
    if analysis.layers.contains(where: { !$0.notes.isEmpty }) {
      line("")
      line("Notes:")
      // Each note written straight into the bytes: `  layer: note`.
      for layer in analysis.layers where !layer.notes.isEmpty {
        let name = layerName(layer.name)
        for note in layer.notes {
          out.append(contentsOf: "  ".utf8)
          out.append(contentsOf: name.utf8)
          out.append(contentsOf: ": ".utf8)
          out.append(contentsOf: note.utf8)
          out.append(0x0A)
        }
      }
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
    var table = CellTable(
      header: [
        "Layer", "Kind", "Weight shape", "Bias shape", "Params", "Non-trainable", "Formula",
      ],
      alignments: [.left, .left, .left, .left, .right, .right, .left],
      rows: analysis.layers.count)  // A row per layer, a few with a second.
    var hidden = 0
    var hiddenElements = 0
    let all = analysis.tensors
    for layer in analysis.layers {
      if layer.kind == .constants || layer.kind == .optimizer {
        hidden += 1
        hiddenElements = sum([hiddenElements, layer.constants, layer.optimizerState])
        continue
      }
      let indices = layer.tensorIndices
      // The first weight and bias, read in place.
      var weight: Int?
      var bias: Int?
      for i in indices where weight == nil || bias == nil {
        let role = all[i].role
        if role == .weight, weight == nil { weight = i }
        if role == .bias, bias == nil { bias = i }
      }
      table.add(layerName(layer.name), cappedAt: options.maxNameWidth)
      table.add(layer.kind.rawValue)
      for found in [weight, bias] {
        if let found { table.add(shape: all[found].info.shape) } else { table.addEmpty() }
      }
      table.add(grouped: layer.trainable)
      if layer.nonTrainable > 0 { table.add(grouped: layer.nonTrainable) } else { table.addEmpty() }
      if let check = layer.formula {
        let f = check.formula
        var formula: String
        if f.nonTrainable == 0 || f.trainable == 0 {
          formula = "\(check.text) = \(grouped(check.expected))"
        } else {
          formula = "\(f.trainableText) = \(grouped(f.trainable))"
        }
        if !check.matches { formula += "  MISMATCH: tensors hold \(grouped(check.actual))" }
        table.add(formula)
      } else {
        table.addEmpty()
      }
      table.endRow()
      guard layer.nonTrainable > 0 else { continue }
      let second = nonTrainableText(indices.map { all[$0] })
      if !second.isEmpty {
        for _ in 0..<6 { table.addEmpty() }
        table.add(second)
        table.endRow()
      }
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

  static func tensorTable(_ analysis: Analysis, _ options: Options) -> CellTable {
    var table = CellTable(
      header: [
        "Tensor", "Shape", "DType", "Elements", "Bytes", "Role", "Trainable", "Shared with",
      ],
      alignments: [.left, .left, .left, .right, .right, .left, .left, .left],
      rows: analysis.tensors.count)  // A row per tensor.
    for t in analysis.tensors {
      table.add(t.info.name, cappedAt: options.maxNameWidth)
      table.add(shape: t.info.shape)
      table.add(t.info.dtype.rawValue)
      table.add(grouped: t.info.elements)
      table.add(grouped: t.info.bytes)
      table.add(t.role.rawValue)
      switch t.role {
      case .constant, .optimizerState: table.add("- (\(t.rule.rawValue))")
      default: table.add("\(t.trainable ? "yes" : "no") (\(t.rule.rawValue))")
      }
      if let shared = t.info.sharedWith {
        table.add(shared, cappedAt: options.maxNameWidth)
      } else {
        table.addEmpty()
      }
      table.endRow()
    }
    return table
  }
}
