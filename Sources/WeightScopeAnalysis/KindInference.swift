import WeightScopeModel

/// What the tensors of a layer say it is: a kind, the formula with the hyperparameters they
/// imply, and what had to be assumed.
struct Inference {
  var kind: LayerKind
  var formula: Formula?
  var notes: [String] = []
}

/// Lower-cased words of the layer's last name component: `encoder.ln_1` -> [`ln`, `1`].
private func words(_ layer: String) -> (last: String, tokens: [String]) {
  let last = String(layer.split(separator: ".").last ?? "").lowercased()
  let tokens = last.split { $0 == "_" || $0 == "-" }.map(String.init)
  return (last, tokens)
}

private func hints(_ layer: String, _ needles: [String]) -> Bool {
  let last = layer.split(separator: ".").last.map(String.init) ?? ""
  return needles.contains { containsASCII(last, $0) }
}

private func tokenHints(_ layer: String, prefixes: [String]) -> Bool {
  let (_, tokens) = words(layer)
  return tokens.contains { token in prefixes.contains { token.hasPrefix($0) } }
}

/// Classifies a PyTorch module from its tensors' local names and shapes.
func inferPyTorch(layer: String, shapes: [String: [Int]]) -> Inference {
  do {
    return try inferPyTorchThrowing(layer: layer, shapes: shapes)
  } catch {
    return Inference(kind: .unknown, notes: ["no consistent hyperparameters: \(error.message)"])
  }
}

private func inferPyTorchThrowing(layer: String, shapes: [String: [Int]]) throws(FormulaError)
  -> Inference
{
  if shapes.keys.contains(where: { $0.hasPrefix("weight_ih_l") }) {
    return try inferRecurrent(shapes)
  }
  if let inProj = shapes["in_proj_weight"] ?? shapes["q_proj_weight"] {
    return try inferAttention(shapes, inProj: inProj, packed: shapes["in_proj_weight"] != nil)
  }
  let weight = shapes["weight"]
  let bias = shapes["bias"]
  if let mean = shapes["running_mean"] ?? shapes["running_var"], mean.count == 1 {
    let instance =
      hints(layer, ["instance", "inorm"]) || words(layer).tokens.contains("in")
    let f = try Formula.batchNorm(
      numFeatures: mean[0], affine: weight != nil || bias != nil,
      countsBatches: shapes["num_batches_tracked"] != nil,
      kind: instance ? .instancenorm : .batchnorm)
    var notes: [String] = []
    if instance {
      notes.append("read as InstanceNorm(track_running_stats=True) from the name; BatchNorm has the same tensors")
    }
    if shapes["num_batches_tracked"] == nil {
      notes.append("no num_batches_tracked: saved without it (PyTorch before 0.4.1?)")
    }
    return Inference(kind: f.kind, formula: f, notes: notes)
  }
  guard let w = weight else {
    return Inference(kind: .unknown, notes: ["no weight to tell the layer's kind from"])
  }
  switch w.count {
  case 3, 4, 5:
    // A transposed convolution's bias has out = w[1] * groups entries, a convolution's w[0].
    let biasSays = bias.flatMap { b -> Int? in
      guard b.count == 1, b[0] != w[0], w[1] > 0, b[0] % w[1] == 0 else { return nil }
      return b[0] / w[1]
    }
    let transposed =
      biasSays != nil || hints(layer, ["deconv", "transpose", "upconv"])
      || words(layer).tokens.contains { $0 == "up" || ($0.hasPrefix("up") && $0.dropFirst(2).first?.isNumber == true) }
    if w.count == 3 && hints(layer, ["bilinear", "bilin"]) {
      return Inference(
        kind: .bilinear,
        formula: try Formula.bilinear(in1: w[1], in2: w[2], outFeatures: w[0], bias: bias != nil))
    }
    var notes: [String] = []
    let f: Formula
    if transposed {
      let groups = biasSays ?? 1
      f = try Formula.convTranspose(
        inChannels: w[0], outChannels: try mul(w[1], groups), kernel: Array(w[2...]),
        groups: groups, bias: bias != nil)
      notes.append(
        biasSays != nil
          ? "read as a transposed convolution: the bias has out_channels = weight.shape[1] * groups"
          : "read as a transposed convolution from the name; groups=1 assumed")
    } else {
      f = try Formula.conv(
        inChannels: w[1], outChannels: w[0], kernel: Array(w[2...]), bias: bias != nil)
      if w[1] == 1 && w[0] > 1 {
        notes.append(
          "one input channel per filter: groups cannot be known from the file; groups=1 "
            + "assumed (a depthwise conv with groups=\(w[0]) has the same count)")
      }
    }
    if w.count == 3 && !transposed {
      notes.append("rank-3 weight read as Conv1d; a Bilinear layer has a rank-3 weight too")
    }
    return Inference(kind: f.kind, formula: f, notes: notes)
  case 2:
    if let b = bias, b == w {
      return Inference(kind: .layernorm, formula: try Formula.layerNorm(normalizedShape: w))
    }
    if let b = bias {
      if b.count == 1 && b[0] == w[1] && w[0] != w[1] {
        // Hugging Face's GPT-2 `Conv1D` keeps a Linear's weight as [in, out].
        var f = try Formula.linear(inFeatures: w[0], outFeatures: w[1])
        f.terms[0].tensors[0].shape = w
        return Inference(
          kind: .linear, formula: f,
          notes: ["weight stored as [in, out] (a transposed Linear, as GPT-2's Conv1D keeps it)"])
      }
      return Inference(
        kind: .linear, formula: try Formula.linear(inFeatures: w[1], outFeatures: w[0]))
    }
    if hints(layer, ["layernorm", "layer_norm"]) || tokenHints(layer, prefixes: ["ln", "norm"]) {
      return Inference(
        kind: .layernorm, formula: try Formula.layerNorm(normalizedShape: w, bias: false),
        notes: ["rank-2 weight without bias read as LayerNorm(bias=False) from the name"])
    }
    if hints(layer, ["bag"]) {
      return Inference(
        kind: .embeddingbag,
        formula: try Formula.embedding(numEmbeddings: w[0], embeddingDim: w[1], bag: true),
        notes: ["rank-2 weight without bias read as EmbeddingBag from the name"])
    }
    if hints(layer, ["embed", "wte", "wpe", "tok", "word", "position", "emb"]) {
      return Inference(
        kind: .embedding, formula: try Formula.embedding(numEmbeddings: w[0], embeddingDim: w[1]),
        notes: ["rank-2 weight without bias read as Embedding from the name"])
    }
    return Inference(
      kind: .linear, formula: try Formula.linear(inFeatures: w[1], outFeatures: w[0], bias: false),
      notes: [
        "rank-2 weight without bias read as Linear(bias=False); an Embedding has the same shape"
      ])
  case 1:
    return try inferRankOne(layer: layer, c: w[0], bias: bias)
  default:
    return Inference(kind: .unknown, notes: ["weight of rank \(w.count) fits no known layer"])
  }
}

private func inferRankOne(layer: String, c: Int, bias: [Int]?) throws(FormulaError) -> Inference {
  if bias != nil {
    if hints(layer, ["groupnorm", "group_norm"]) || tokenHints(layer, prefixes: ["gn"]) {
      return Inference(
        kind: .groupnorm, formula: try Formula.groupNorm(numGroups: 1, numChannels: c),
        notes: [
          "read as GroupNorm from the name; num_groups cannot be known (no effect on the count)"
        ])
    }
    if hints(layer, ["batchnorm", "batch_norm"]) || tokenHints(layer, prefixes: ["bn"]) {
      return Inference(
        kind: .batchnorm, formula: try Formula.batchNorm(numFeatures: c, trackRunningStats: false),
        notes: ["read as BatchNorm(track_running_stats=False) from the name"])
    }
    if hints(layer, ["layernorm", "layer_norm"]) || tokenHints(layer, prefixes: ["ln", "norm"]) {
      return Inference(
        kind: .layernorm, formula: try Formula.layerNorm(normalizedShape: [c]),
        notes: ["read as LayerNorm from the name"])
    }
    return Inference(
      kind: .norm, formula: try Formula.affineNorm(normalizedShape: [c], bias: true),
      notes: [
        "rank-1 weight and bias without running statistics: LayerNorm, GroupNorm or "
          + "InstanceNorm(affine=True), which the file cannot tell apart"
      ])
  }
  if hints(layer, ["prelu"]) || tokenHints(layer, prefixes: ["act"]) {
    return Inference(
      kind: .prelu, formula: try Formula.prelu(numParameters: c),
      notes: ["read as PReLU from the name"])
  }
  if hints(layer, ["rms"]) {
    return Inference(kind: .rmsnorm, formula: try Formula.rmsNorm(normalizedShape: [c]))
  }
  return Inference(
    kind: .norm, formula: try Formula.affineNorm(normalizedShape: [c], bias: false),
    notes: [
      "rank-1 weight without bias: RMSNorm, LayerNorm(bias=False) or PReLU(\(c)), which the file cannot tell apart"
    ])
}

/// `weight_ih_l0`, `weight_hh_l1_reverse`, ...: an RNN, LSTM or GRU, told apart by the gate
/// multiple of the hidden size.
private func inferRecurrent(_ shapes: [String: [Int]]) throws(FormulaError) -> Inference {
  guard let ih = shapes["weight_ih_l0"], ih.count == 2, let hh = shapes["weight_hh_l0"],
    hh.count == 2
  else {
    return Inference(
      kind: .unknown, notes: ["recurrent weights without weight_ih_l0/weight_hh_l0 of rank 2"])
  }
  var hidden = hh[1]
  var proj = 0
  if let hr = shapes["weight_hr_l0"], hr.count == 2 {
    proj = hr[0]
    hidden = hr[1]
  }
  guard hidden > 0, hh[0] % hidden == 0,
    let kind = [1: LayerKind.rnn, 3: .gru, 4: .lstm][hh[0] / hidden]
  else {
    return Inference(
      kind: .unknown, notes: ["weight_hh_l0 \(hh) is not 1, 3 or 4 times the hidden size"])
  }
  var layers = 0
  for key in shapes.keys {
    for part in key.split(separator: "_") where part.first == "l" {
      if let l = Int(part.dropFirst()), l >= 0, l < 10_000 { layers = max(layers, l + 1) }
    }
  }
  let bidirectional = shapes.keys.contains { $0.hasSuffix("_reverse") }
  let bias = shapes.keys.contains { $0.hasPrefix("bias_") }
  let f = try Formula.recurrent(
    kind, inputSize: ih[1], hiddenSize: hidden, numLayers: max(layers, 1), bias: bias,
    bidirectional: bidirectional, projSize: proj)
  return Inference(kind: kind, formula: f)
}

/// `in_proj_weight` (or `q/k/v_proj_weight`): a MultiheadAttention, whose `out_proj` is a
/// Linear layer of its own.
private func inferAttention(_ shapes: [String: [Int]], inProj: [Int], packed: Bool)
  throws(FormulaError) -> Inference
{
  guard inProj.count == 2 else {
    return Inference(kind: .unknown, notes: ["attention projection of rank \(inProj.count)"])
  }
  let e = packed ? inProj[1] : inProj[0]
  var f = try Formula.multiheadAttention(
    embedDim: e, kdim: shapes["k_proj_weight"].flatMap { $0.count == 2 ? $0[1] : nil },
    vdim: shapes["v_proj_weight"].flatMap { $0.count == 2 ? $0[1] : nil },
    bias: shapes["in_proj_bias"] != nil, addBiasKV: shapes["bias_k"] != nil)
  f.terms.removeAll { $0.tensors.contains { $0.name.hasPrefix("out_proj.") } }
  return Inference(
    kind: .multiheadattention, formula: f,
    notes: ["out_proj is a Linear layer of its own; the formula here covers the input projections"])
}

// MARK: - ONNX

/// Classifies an ONNX layer from the operator that consumes its weight.
///
/// - Parameters:
///   - members: the layer's tensors, as indices into `tensors` and `placements`, which are read
///     in place rather than copied.
func inferONNX(members: [Int], tensors: [TensorInfo], placements: [Placement]) -> Inference {
  // Parameters are the members that are neither constants nor optimizer state.
  func isParameter(_ i: Int) -> Bool {
    placements[i].role != .constant && placements[i].role != .optimizerState
  }
  let weightMember = members.first {
    placements[$0].role == .weight && placements[$0].useIndex != nil
  }
  guard let wm = weightMember, let u = placements[wm].useIndex else {
    if !members.contains(where: isParameter) { return Inference(kind: .constants) }
    return Inference(kind: .unknown, notes: ["no operator that takes a weight"])
  }
  var shapes: [String: [Int]] = [:]
  for i in members where isParameter(i) { shapes[placements[i].localName] = tensors[i].shape }
  do {
    return try inferONNXThrowing(use: tensors[wm].uses[u], w: tensors[wm].shape, shapes: shapes)
  } catch {
    return Inference(kind: .unknown, notes: ["no consistent hyperparameters: \(error.message)"])
  }
}

private func inferONNXThrowing(use: OperatorUse, w: [Int], shapes: [String: [Int]])
  throws(FormulaError) -> Inference
{
  let bias = shapes["bias"] != nil
  let group = use.attributes["group"]?.first ?? 1
  switch use.opType {
  case "Conv" where w.count >= 3:
    let f = try Formula.conv(
      inChannels: try mul(w[1], group), outChannels: w[0], kernel: Array(w[2...]), groups: group,
      bias: bias)
    return Inference(kind: f.kind, formula: f)
  case "ConvTranspose" where w.count >= 3:
    let f = try Formula.convTranspose(
      inChannels: w[0], outChannels: try mul(w[1], group), kernel: Array(w[2...]), groups: group,
      bias: bias)
    return Inference(kind: f.kind, formula: f)
  case "Gemm" where w.count == 2, "MatMul" where w.count == 2:
    // Gemm computes A*B' with transB=1 (PyTorch's [out, in]); MatMul and transB=0 take [in, out].
    let transposed = use.opType == "Gemm" && (use.attributes["transB"]?.first ?? 0) != 0
    let (i, o) = transposed ? (w[1], w[0]) : (w[0], w[1])
    var f = try Formula.linear(inFeatures: i, outFeatures: o, bias: bias)
    f.terms[0].tensors[0].shape = w
    if let b = shapes["bias"], b.count != 1, b.reduce(1, { $0 &* $1 }) == o {
      f.terms[0].tensors[1].shape = b  // a broadcastable [1, out] bias
    }
    return Inference(kind: .linear, formula: f)
  case "BatchNormalization":
    let f = try Formula.batchNorm(numFeatures: w.first ?? 0, countsBatches: false)
    return Inference(kind: .batchnorm, formula: f, notes: ["ONNX keeps no num_batches_tracked"])
  case "LayerNormalization":
    return Inference(
      kind: .layernorm, formula: try Formula.layerNorm(normalizedShape: w, bias: bias))
  case "InstanceNormalization":
    let f = try Formula.instanceNorm(numFeatures: w.first ?? 0, affine: true)
    return Inference(kind: .instancenorm, formula: f)
  case "GroupNormalization":
    let c = w.first ?? 0
    let groups = use.attributes["num_groups"]?.first ?? 1
    let f = try Formula.groupNorm(
      numGroups: groups > 0 && c % groups == 0 ? groups : 1, numChannels: c)
    return Inference(kind: .groupnorm, formula: f)
  case "RMSNormalization", "SimplifiedLayerNormalization":
    return Inference(kind: .rmsnorm, formula: try Formula.rmsNorm(normalizedShape: w))
  case "Gather" where w.count == 2:
    return Inference(
      kind: .embedding, formula: try Formula.embedding(numEmbeddings: w[0], embeddingDim: w[1]))
  case "PRelu":
    var f = try Formula.prelu(numParameters: try product(w))
    f.terms[0].tensors[0].shape = w
    return Inference(kind: .prelu, formula: f)
  case "LSTM", "GRU", "RNN":
    guard w.count == 3, let r = shapes["R"], r.count == 3 else { break }
    let kind: LayerKind = use.opType == "LSTM" ? .lstm : use.opType == "GRU" ? .gru : .rnn
    let g = Formula.gates(kind) ?? 1
    let h = use.attributes["hidden_size"]?.first ?? r[2]
    var f = try Formula.recurrent(
      kind, inputSize: w[2], hiddenSize: h, bias: shapes["B"] != nil, bidirectional: w[0] == 2)
    // ONNX packs both directions and both biases: W [dirs, G*H, in], R [dirs, G*H, H], B [dirs, 2*G*H].
    var onnx = [
      ExpectedTensor("W", [w[0], try mul(g, h), w[2]], .weight),
      ExpectedTensor("R", [w[0], try mul(g, h), h], .weight),
    ]
    if shapes["B"] != nil { onnx.append(ExpectedTensor("B", [w[0], try mul(2, g, h)], .bias)) }
    f.terms = [Formula.Term(text: f.text, count: f.total, trainable: true, tensors: onnx)]
    return Inference(kind: kind, formula: f)
  default:
    break
  }
  return Inference(kind: .unknown, notes: ["\(use.opType) weight of shape \(w): no formula"])
}
