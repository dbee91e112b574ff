import WeightScopeModel

/// The formula library: one function per PyTorch module, a pure function of its
/// hyperparameters, with PyTorch's defaults.
extension Formula {
  /// `Conv1d`/`Conv2d`/`Conv3d`: weight `[out, in/groups, k...]`, bias `[out]`.
  ///
  /// `dilation`, `stride` and `padding` change the output size, never the count.
  public static func conv(
    inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true
  ) throws(FormulaError) -> Formula {
    try checkConv(inChannels, outChannels, kernel, groups)
    guard let kind = LayerKind.conv(dimensions: kernel.count) else {
      throw FormulaError(
        .invalid, "a convolution has 1, 2 or 3 kernel dimensions, not \(kernel.count)")
    }
    let d = inChannels / groups
    let perFilter = try mul(product(kernel), d)
    let dText = groups == 1 ? "\(d)" : "(\(inChannels)/\(groups))"
    let kText = times(kernel) + "*" + dText
    let count = try mul(add(perFilter, bias ? 1 : 0), outChannels)
    var tensors = [ExpectedTensor("weight", [outChannels, d] + kernel, .weight)]
    if bias { tensors.append(ExpectedTensor("bias", [outChannels], .bias)) }
    let text = bias ? "((\(kText))+1)*\(outChannels)" : "(\(kText))*\(outChannels)"
    return Formula(
      kind: kind, terms: [Term(text: text, count: count, trainable: true, tensors: tensors)])
  }

  /// `ConvTranspose1d/2d/3d`: weight `[in, out/groups, k...]`, bias `[out]`.
  public static func convTranspose(
    inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true
  ) throws(FormulaError) -> Formula {
    try checkConv(inChannels, outChannels, kernel, groups)
    guard let kind = LayerKind.conv(dimensions: kernel.count, transposed: true) else {
      throw FormulaError(.invalid, "a transposed convolution has 1, 2 or 3 kernel dimensions")
    }
    let perGroup = outChannels / groups
    let weight = try mul(inChannels, perGroup, product(kernel))
    let oText = groups == 1 ? "\(perGroup)" : "(\(outChannels)/\(groups))"
    let wText = "\(inChannels)*\(oText)*" + times(kernel)
    var tensors = [ExpectedTensor("weight", [inChannels, perGroup] + kernel, .weight)]
    if bias { tensors.append(ExpectedTensor("bias", [outChannels], .bias)) }
    let text = bias ? "(\(wText))+\(outChannels)" : wText
    let count = try add(weight, bias ? outChannels : 0)
    return Formula(
      kind: kind, terms: [Term(text: text, count: count, trainable: true, tensors: tensors)])
  }

  private static func checkConv(_ i: Int, _ o: Int, _ kernel: [Int], _ groups: Int)
    throws(FormulaError)
  {
    try require(i > 0 && o > 0, "channels must be positive (in \(i), out \(o))")
    try require(kernel.allSatisfy { $0 > 0 }, "kernel sizes must be positive: \(kernel)")
    try require(groups > 0, "groups must be positive, not \(groups)")
    try require(i % groups == 0, "in_channels \(i) is not divisible by groups \(groups)")
    try require(o % groups == 0, "out_channels \(o) is not divisible by groups \(groups)")
  }

  /// `Linear`: weight `[out, in]`, bias `[out]`; written `(in*out)+out`.
  public static func linear(inFeatures: Int, outFeatures: Int, bias: Bool = true)
    throws(FormulaError) -> Formula
  {
    try require(inFeatures >= 0 && outFeatures >= 0, "features must not be negative")
    var tensors = [ExpectedTensor("weight", [outFeatures, inFeatures], .weight)]
    if bias { tensors.append(ExpectedTensor("bias", [outFeatures], .bias)) }
    let count = try add(mul(inFeatures, outFeatures), bias ? outFeatures : 0)
    let text =
      bias ? "(\(inFeatures)*\(outFeatures))+\(outFeatures)" : "\(inFeatures)*\(outFeatures)"
    return Formula(
      kind: .linear, terms: [Term(text: text, count: count, trainable: true, tensors: tensors)])
  }

  /// `Bilinear`: weight `[out, in1, in2]`, bias `[out]`; written `(out*in1*in2)+out`.
  public static func bilinear(in1: Int, in2: Int, outFeatures: Int, bias: Bool = true)
    throws(FormulaError) -> Formula
  {
    try require(in1 >= 0 && in2 >= 0 && outFeatures >= 0, "features must not be negative")
    var tensors = [ExpectedTensor("weight", [outFeatures, in1, in2], .weight)]
    if bias { tensors.append(ExpectedTensor("bias", [outFeatures], .bias)) }
    let count = try add(mul(outFeatures, in1, in2), bias ? outFeatures : 0)
    let w = "\(outFeatures)*\(in1)*\(in2)"
    let text = bias ? "(\(w))+\(outFeatures)" : w
    return Formula(
      kind: .bilinear, terms: [Term(text: text, count: count, trainable: true, tensors: tensors)])
  }

  /// `Embedding` (and `EmbeddingBag` with `bag: true`): weight `[num, dim]`.
  public static func embedding(numEmbeddings: Int, embeddingDim: Int, bag: Bool = false)
    throws(FormulaError) -> Formula
  {
    try require(numEmbeddings >= 0 && embeddingDim >= 0, "sizes must not be negative")
    let count = try mul(numEmbeddings, embeddingDim)
    let tensors = [ExpectedTensor("weight", [numEmbeddings, embeddingDim], .weight)]
    return Formula(
      kind: bag ? .embeddingbag : .embedding,
      terms: [
        Term(
          text: "\(numEmbeddings)*\(embeddingDim)", count: count, trainable: true, tensors: tensors)
      ])
  }

  /// `BatchNorm1d/2d/3d`: `2*C` trainable (weight, bias) when `affine`; `2*C` running
  /// statistics and 1 `num_batches_tracked` when `trackRunningStats`.
  ///
  /// `countsBatches: false` leaves out `num_batches_tracked`, which ONNX exports drop.
  public static func batchNorm(
    numFeatures c: Int, affine: Bool = true, trackRunningStats: Bool = true,
    countsBatches: Bool = true, kind: LayerKind = .batchnorm
  ) throws(FormulaError) -> Formula {
    try require(c >= 0, "num_features must not be negative")
    var terms: [Term] = []
    if affine {
      terms.append(
        Term(
          text: "2*\(c)", count: try mul(2, c), trainable: true,
          tensors: [ExpectedTensor("weight", [c], .weight), ExpectedTensor("bias", [c], .bias)]))
    }
    if trackRunningStats {
      terms.append(
        Term(
          text: "2*\(c)", count: try mul(2, c), trainable: false,
          tensors: [
            ExpectedTensor("running_mean", [c], .runningMean, trainable: false),
            ExpectedTensor("running_var", [c], .runningVar, trainable: false),
          ]))
      if countsBatches {
        terms.append(
          Term(
            text: "1", count: 1, trainable: false,
            tensors: [
              ExpectedTensor("num_batches_tracked", [], .numBatchesTracked, trainable: false)
            ]))
      }
    }
    return Formula(kind: kind, terms: terms)
  }

  /// `InstanceNorm1d/2d/3d`: like BatchNorm, but `affine` and `track_running_stats` default
  /// to false.
  public static func instanceNorm(
    numFeatures c: Int, affine: Bool = false, trackRunningStats: Bool = false
  ) throws(FormulaError) -> Formula {
    try batchNorm(
      numFeatures: c, affine: affine, trackRunningStats: trackRunningStats, kind: .instancenorm)
  }

  /// `LayerNorm`: weight and bias of `normalizedShape` when `elementwiseAffine` (bias
  /// optional); `2*(10*12)` for a multi-dimensional shape.
  public static func layerNorm(
    normalizedShape: [Int], elementwiseAffine: Bool = true, bias: Bool = true
  ) throws(FormulaError) -> Formula {
    try require(normalizedShape.allSatisfy { $0 >= 0 }, "normalized_shape must not be negative")
    guard elementwiseAffine else { return Formula(kind: .layernorm, terms: []) }
    let n = try product(normalizedShape)
    let nText = normalizedShape.count == 1 ? "\(n)" : "(\(times(normalizedShape)))"
    var tensors = [ExpectedTensor("weight", normalizedShape, .weight)]
    if bias { tensors.append(ExpectedTensor("bias", normalizedShape, .bias)) }
    let text = bias ? "2*\(nText)" : (normalizedShape.count == 1 ? nText : times(normalizedShape))
    let count = try mul(n, bias ? 2 : 1)
    return Formula(
      kind: .layernorm, terms: [Term(text: text, count: count, trainable: true, tensors: tensors)])
  }

  /// `GroupNorm`: `2*C` when `affine`; the group count does not change it.
  public static func groupNorm(numGroups: Int, numChannels c: Int, affine: Bool = true)
    throws(FormulaError) -> Formula
  {
    try require(
      numGroups > 0 && c % numGroups == 0,
      "num_channels \(c) is not divisible by num_groups \(numGroups)")
    guard affine else { return Formula(kind: .groupnorm, terms: []) }
    let tensors = [ExpectedTensor("weight", [c], .weight), ExpectedTensor("bias", [c], .bias)]
    return Formula(
      kind: .groupnorm,
      terms: [Term(text: "2*\(c)", count: try mul(2, c), trainable: true, tensors: tensors)])
  }

  /// `RMSNorm`: a weight of `normalizedShape` when `elementwiseAffine`.
  public static func rmsNorm(normalizedShape: [Int], elementwiseAffine: Bool = true)
    throws(FormulaError) -> Formula
  {
    try require(normalizedShape.allSatisfy { $0 >= 0 }, "normalized_shape must not be negative")
    guard elementwiseAffine else { return Formula(kind: .rmsnorm, terms: []) }
    let tensors = [ExpectedTensor("weight", normalizedShape, .weight)]
    return Formula(
      kind: .rmsnorm,
      terms: [
        Term(
          text: times(normalizedShape), count: try product(normalizedShape), trainable: true,
          tensors: tensors)
      ])
  }

  /// An affine normalization whose flavour is unknown: weight (and bias) of `normalizedShape`.
  public static func affineNorm(normalizedShape: [Int], bias: Bool) throws(FormulaError) -> Formula
  {
    var f = try layerNorm(normalizedShape: normalizedShape, bias: bias)
    f.kind = .norm
    return f
  }

  /// `PReLU`: `num_parameters` slopes (1 by default).
  public static func prelu(numParameters: Int = 1) throws(FormulaError) -> Formula {
    try require(numParameters > 0, "num_parameters must be positive")
    let tensors = [ExpectedTensor("weight", [numParameters], .weight)]
    return Formula(
      kind: .prelu,
      terms: [
        Term(text: "\(numParameters)", count: numParameters, trainable: true, tensors: tensors)
      ])
  }

  /// ReLU, MaxPool, AvgPool, Flatten, Dropout, Identity and other layers without parameters.
  public static var parameterless: Formula { Formula(kind: .parameterless, terms: []) }

  /// The recurrent cells' gate count: 4 for LSTM, 3 for GRU, 1 for RNN.
  public static func gates(_ kind: LayerKind) -> Int? {
    switch kind {
    case .lstm: 4
    case .gru: 3
    case .rnn: 1
    default: nil
    }
  }

  /// `RNN`/`LSTM`/`GRU`: per layer and direction, `weight_ih [G*H, in]`, `weight_hh [G*H, H]`
  /// (`[G*H, P]` with LSTM's `proj_size` P, plus `weight_hr [P, H]`), `bias_ih` and `bias_hh`
  /// `[G*H]`. Written `G*H*(in+H+2)` per direction; layers after the first take
  /// `directions*H` (or `directions*P`) inputs.
  public static func recurrent(
    _ kind: LayerKind, inputSize: Int, hiddenSize h: Int, numLayers: Int = 1, bias: Bool = true,
    bidirectional: Bool = false, projSize p: Int = 0
  ) throws(FormulaError) -> Formula {
    guard let g = gates(kind) else {
      throw FormulaError(.invalid, "\(kind.rawValue) is not a recurrent kind")
    }
    try require(inputSize >= 0 && h > 0 && numLayers > 0, "sizes must be positive")
    try require(p >= 0 && p < h, "proj_size must be between 0 and hidden_size - 1")
    try require(p == 0 || kind == .lstm, "proj_size is only for LSTM")
    let dirs = bidirectional ? 2 : 1
    let out = p > 0 ? p : h
    var terms: [Term] = []
    var layer = 0
    while layer < numLayers {
      let input = layer == 0 ? inputSize : try mul(dirs, out)
      // Layers after the first are alike: one term for all of them.
      let repeats = layer == 0 ? 1 : numLayers - 1
      let perDir = try add(mul(g, h, add(input, out, bias ? 2 : 0)), mul(p, h))
      let count = try mul(perDir, dirs, repeats)
      let inner = "\(input)+\(out)" + (bias ? "+2" : "")
      var text = "\(g)*\(h)*(\(inner))" + (p > 0 ? "+\(p)*\(h)" : "")
      if dirs > 1 { text = p > 0 ? "\(dirs)*(\(text))" : "\(dirs)*\(text)" }
      if repeats > 1 { text = "\(repeats)*(\(text))" }
      var tensors: [ExpectedTensor] = []
      for l in layer..<(layer + repeats) {
        for d in 0..<dirs {
          let s = "_l\(l)" + (d == 1 ? "_reverse" : "")
          tensors.append(ExpectedTensor("weight_ih" + s, [g * h, input], .weight))
          tensors.append(ExpectedTensor("weight_hh" + s, [g * h, out], .weight))
          if bias {
            tensors.append(ExpectedTensor("bias_ih" + s, [g * h], .bias))
            tensors.append(ExpectedTensor("bias_hh" + s, [g * h], .bias))
          }
          if p > 0 { tensors.append(ExpectedTensor("weight_hr" + s, [p, h], .weight)) }
        }
      }
      terms.append(Term(text: text, count: count, trainable: true, tensors: tensors))
      layer += repeats
    }
    return Formula(kind: kind, terms: terms)
  }

  /// `MultiheadAttention`: a packed `in_proj_weight [3E, E]` when `kdim == vdim == E`, else
  /// `q/k/v_proj_weight`; `in_proj_bias [3E]` and the `out_proj` Linear's bias when `bias`;
  /// `bias_k`, `bias_v [1, 1, E]` when `addBiasKV`.
  public static func multiheadAttention(
    embedDim e: Int, kdim: Int? = nil, vdim: Int? = nil, bias: Bool = true, addBiasKV: Bool = false
  ) throws(FormulaError) -> Formula {
    try require(e > 0, "embed_dim must be positive")
    let k = kdim ?? e
    let v = vdim ?? e
    var terms: [Term] = []
    var tensors: [ExpectedTensor] = []
    var text: String
    var count: Int
    if k == e && v == e {
      count = try mul(3, e, e)
      tensors.append(ExpectedTensor("in_proj_weight", [3 * e, e], .weight))
      text = "3*\(e)*\(e)"
    } else {
      tensors += [
        ExpectedTensor("q_proj_weight", [e, e], .weight),
        ExpectedTensor("k_proj_weight", [e, k], .weight),
        ExpectedTensor("v_proj_weight", [e, v], .weight),
      ]
      text = "\(e)*(\(e)+\(k)+\(v))"
      count = try mul(e, add(e, k, v))
    }
    if bias {
      count = try add(count, mul(3, e))
      tensors.append(ExpectedTensor("in_proj_bias", [3 * e], .bias))
      text = "(\(text))+3*\(e)"
    }
    terms.append(Term(text: text, count: count, trainable: true, tensors: tensors))
    if addBiasKV {
      terms.append(
        Term(
          text: "2*\(e)", count: try mul(2, e), trainable: true,
          tensors: [
            ExpectedTensor("bias_k", [1, 1, e], .bias), ExpectedTensor("bias_v", [1, 1, e], .bias),
          ]))
    }
    terms += try linear(inFeatures: e, outFeatures: e, bias: bias).prefixed("out_proj.").terms
    return Formula(kind: .multiheadattention, terms: terms)
  }

  /// `TransformerEncoderLayer`: `self_attn`, `linear1`, `linear2`, `norm1`, `norm2`.
  public static func transformerEncoderLayer(
    dModel d: Int, dimFeedforward ff: Int = 2048, bias: Bool = true
  ) throws(FormulaError) -> Formula {
    var terms = try multiheadAttention(embedDim: d, bias: bias).prefixed("self_attn.").terms
    terms += try linear(inFeatures: d, outFeatures: ff, bias: bias).prefixed("linear1.").terms
    terms += try linear(inFeatures: ff, outFeatures: d, bias: bias).prefixed("linear2.").terms
    for n in ["norm1.", "norm2."] {
      terms += try layerNorm(normalizedShape: [d], bias: bias).prefixed(n).terms
    }
    return Formula(kind: .transformerencoderlayer, terms: terms)
  }

  /// `TransformerDecoderLayer`: the encoder layer's parts, plus `multihead_attn` and `norm3`.
  public static func transformerDecoderLayer(
    dModel d: Int, dimFeedforward ff: Int = 2048, bias: Bool = true
  ) throws(FormulaError) -> Formula {
    var terms = try multiheadAttention(embedDim: d, bias: bias).prefixed("self_attn.").terms
    terms += try multiheadAttention(embedDim: d, bias: bias).prefixed("multihead_attn.").terms
    terms += try linear(inFeatures: d, outFeatures: ff, bias: bias).prefixed("linear1.").terms
    terms += try linear(inFeatures: ff, outFeatures: d, bias: bias).prefixed("linear2.").terms
    for n in ["norm1.", "norm2.", "norm3."] {
      terms += try layerNorm(normalizedShape: [d], bias: bias).prefixed(n).terms
    }
    return Formula(kind: .transformerdecoderlayer, terms: terms)
  }
}
