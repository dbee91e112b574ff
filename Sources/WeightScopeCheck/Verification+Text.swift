extension Verification {
  /// One line per layer (its tensors under it when something differs), then the verdict.
  public func renderText() -> String {
    var lines = [
      "Spec:        \(spec.source) (\(spec.groups.count) layers with parameters, "
        + "\(spec.parameterless) without)",
      "Checkpoint:  \(file.source)\(file.format.map { " (\($0.rawValue))" } ?? "")",
      "Matched:     \(matching.rawValue)",
    ]
    for p in strippedFromFile { lines.append("Prefix:      `\(p)` removed from the checkpoint's names") }
    for p in strippedFromSpec { lines.append("Prefix:      `\(p)` removed from the spec's names") }
    lines.append("")
    var table = TextTable(header: ["Layer", "Type", "Status", "Tensors"], right: [])
    for layer in layers {
      let summary: String
      if layer.matches {
        summary = layer.tensors.map { t in
          "\(local(t.name, in: layer.name)) \(bracketed(t.expected ?? t.actual ?? []))"
            + (t.status == .notStored ? " (not stored in ONNX)" : "")
        }.joined(separator: ", ")
      } else {
        summary = layer.tensors.filter(\.isFailure).map { describe($0, in: layer.name) }
          .joined(separator: "; ")
      }
      table.rows.append([layer.name.isEmpty ? "(root)" : layer.name, layer.type,
        layer.matches ? "match" : layer.status.rawValue, summary])
    }
    lines += table.render()
    lines.append("")
    lines += verdictLines
    return lines.joined(separator: "\n") + "\n"
  }

  private func local(_ name: String, in layer: String) -> String {
    layer.isEmpty || !name.hasPrefix(layer + ".") ? name : String(name.dropFirst(layer.count + 1))
  }

  private func describe(_ t: TensorVerdict, in layer: String) -> String {
    let name = local(t.name, in: layer)
    switch t.status {
    case .shapeMismatch:
      return "\(name): spec \(bracketed(t.expected ?? [])), file \(bracketed(t.actual ?? []))"
    case .missing: return "\(name) \(bracketed(t.expected ?? [])) missing from the file"
    case .unexpected: return "\(name) \(bracketed(t.actual ?? [])) not in the spec"
    case .match, .notStored: return name
    }
  }

  /// The verdict, and what `load_state_dict(strict=True)` would say.
  public var verdictLines: [String] {
    let all = tensors
    let failed = layers.filter { !$0.matches }
    if failed.isEmpty {
      let n = all.filter { $0.status == .match }.count
      return [
        "Verdict: OK. All \(n) tensors of \(layers.count) layers match the spec; "
          + "load_state_dict(strict=True) would accept this checkpoint."
      ]
    }
    let mismatched = all.filter { $0.status == .shapeMismatch }
    let missing = all.filter { $0.status == .missing }
    let unexpected = all.filter { $0.status == .unexpected }
    var lines = [
      "Verdict: MISMATCH. \(failed.count) of \(layers.count) layers differ "
        + "(\(failed.map { $0.name.isEmpty ? "(root)" : $0.name }.joined(separator: ", "))): "
        + "\(mismatched.count) shape mismatch\(mismatched.count == 1 ? "" : "es"), "
        + "\(missing.count) missing, \(unexpected.count) unexpected."
    ]
    lines.append("load_state_dict(strict=True) would fail with:")
    if !missing.isEmpty {
      lines.append(
        "  Missing key(s) in state_dict: " + missing.map { "\"\($0.name)\"" }.joined(separator: ", "))
    }
    if !unexpected.isEmpty {
      lines.append(
        "  Unexpected key(s) in state_dict: "
          + unexpected.map { "\"\($0.name)\"" }.joined(separator: ", "))
    }
    for t in mismatched {
      lines.append(
        "  size mismatch for \(t.name): copying a param with shape "
          + "torch.Size(\(bracketed(t.actual ?? []))) from checkpoint, the shape in current "
          + "model is torch.Size(\(bracketed(t.expected ?? []))).")
    }
    return lines
  }
}
