import WeightScopeModel

/// Classifies a layer from the module the file itself spells out (a whole pickled module, a
/// TorchScript archive): its class and real hyperparameters, instead of shapes alone.
///
/// Covers `Conv{1,2,3}d`, `ConvTranspose{1,2,3}d`, `Linear`, `BatchNorm{1,2,3}d`, `Embedding`
/// and `LayerNorm`; any other class falls back to ``inferPyTorch(layer:shapes:)`` with the
/// class named in a note. Bias presence is read from the tensors (`bias=None` saves none).
func inferPyTorch(layer: String, shapes: [String: [Int]], module: ModuleInfo?) -> Inference {
  guard let module else { return inferPyTorch(layer: layer, shapes: shapes) }
  let className = module.className
  let shortName = className.split(separator: ".").last.map(String.init) ?? className
  let classNote = "class \(className) (hyperparameters from the file)"
  do throws(FormulaError) {
    if let formula = try formula(shortName, module, shapes) {
      return Inference(kind: formula.kind, formula: formula, notes: [classNote])
    }
  } catch {
    var inference = inferPyTorch(layer: layer, shapes: shapes)
    inference.notes.append("\(className) hyperparameters are inconsistent: \(error.message)")
    return inference
  }
  var inference = inferPyTorch(layer: layer, shapes: shapes)
  inference.notes.insert("class \(className)", at: 0)
  return inference
}

/// The formula a known class's hyperparameters give; nil for a class without one here, or when
/// an attribute it needs is missing.
private func formula(_ name: String, _ m: ModuleInfo, _ shapes: [String: [Int]])
  throws(FormulaError) -> Formula?
{
  let bias = shapes["bias"] != nil
  switch name {
  case "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d":
    guard let i = integer(m, "in_channels"), let o = integer(m, "out_channels"),
      let kernel = integers(m, "kernel_size")
    else { return nil }
    let groups = integer(m, "groups") ?? 1
    if name.hasPrefix("ConvTranspose") {
      return try Formula.convTranspose(
        inChannels: i, outChannels: o, kernel: kernel, groups: groups, bias: bias)
    }
    return try Formula.conv(inChannels: i, outChannels: o, kernel: kernel, groups: groups, bias: bias)
  case "Linear":
    guard let i = integer(m, "in_features"), let o = integer(m, "out_features") else { return nil }
    return try Formula.linear(inFeatures: i, outFeatures: o, bias: bias)
  case "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm":
    guard let c = integer(m, "num_features") else { return nil }
    let track = boolean(m, "track_running_stats") ?? true
    return try Formula.batchNorm(
      numFeatures: c, affine: boolean(m, "affine") ?? true, trackRunningStats: track,
      countsBatches: track && shapes["num_batches_tracked"] != nil)
  case "Embedding":
    guard let n = integer(m, "num_embeddings"), let d = integer(m, "embedding_dim") else {
      return nil
    }
    return try Formula.embedding(numEmbeddings: n, embeddingDim: d)
  case "LayerNorm":
    guard let shape = integers(m, "normalized_shape") else { return nil }
    return try Formula.layerNorm(
      normalizedShape: shape, elementwiseAffine: boolean(m, "elementwise_affine") ?? true,
      bias: bias)
  default:
    return nil
  }
}

/// `3` -> 3.
private func integer(_ m: ModuleInfo, _ key: String) -> Int? {
  m.attribute(key).flatMap { Int($0) }
}

/// `(3, 3)`, `[3, 3]` or `3` -> [3, 3] / [3].
private func integers(_ m: ModuleInfo, _ key: String) -> [Int]? {
  guard let text = m.attribute(key) else { return nil }
  let parts = text.split { $0 == "(" || $0 == ")" || $0 == "[" || $0 == "]" || $0 == "," || $0 == " " }
  let numbers = parts.compactMap { Int($0) }
  guard numbers.count == parts.count, !numbers.isEmpty else { return nil }
  return numbers
}

/// `True` / `False`.
private func boolean(_ m: ModuleInfo, _ key: String) -> Bool? {
  switch m.attribute(key) {
  case "True"?, "true"?: return true
  case "False"?, "false"?: return false
  default: return nil
  }
}

/// The file's modules by the layer name the analysis gives them (without the name prefix).
func modulesByLayer(_ file: WeightFile, prefix: NamePrefix?) -> [String: ModuleInfo] {
  var byLayer: [String: ModuleInfo] = [:]
  for module in file.modules {
    var name = module.path
    if let prefix, (name + ".").hasPrefix(prefix.text) { name = prefix.strip(name + ".") }
    if name.hasSuffix(".") { name.removeLast() }
    if byLayer[name] == nil { byLayer[name] = module }
  }
  return byLayer
}
