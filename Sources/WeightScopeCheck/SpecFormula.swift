import WeightScopeAnalysis
import WeightScopeSpec

/// The formula library applied to the layers of a spec: torch class name and arguments in,
/// parameter count and implied tensors out.
public enum SpecFormula {
  /// The formula for one `torch.nn` layer as the spec writes it; `Sequential` and every layer
  /// without parameters give ``Formula/parameterless``.
  ///
  /// - Throws: `.argument` with the layer's place in the spec when an argument has the wrong
  ///   kind or the hyperparameters do not fit together (`in_channels` not divisible by `groups`).
  public static func formula(for module: SpecModule, file: String = "") throws(SpecError)
    -> Formula
  {
    let a = Arguments(module: module, file: file)
    do {
      return try build(module.type, a)
    } catch let error as FormulaError {
      throw a.fail(error.message)
    } catch let error as SpecError {
      throw error
    } catch {
      throw a.fail("\(error)")
    }
  }

  private static func build(_ type: String, _ a: Arguments) throws -> Formula {
    switch type {
    case "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d":
      let dims = Int(String(type.dropLast().suffix(1))) ?? 2
      let i = try a.int("in_channels")
      let o = try a.int("out_channels")
      let k = try a.ints("kernel_size", count: dims)
      let g = try a.int("groups")
      let b = try a.bool("bias")
      return type.hasPrefix("ConvTranspose")
        ? try Formula.convTranspose(inChannels: i, outChannels: o, kernel: k, groups: g, bias: b)
        : try Formula.conv(inChannels: i, outChannels: o, kernel: k, groups: g, bias: b)
    case "Linear":
      return try Formula.linear(
        inFeatures: a.int("in_features"), outFeatures: a.int("out_features"), bias: a.bool("bias"))
    case "Bilinear":
      return try Formula.bilinear(
        in1: a.int("in1_features"), in2: a.int("in2_features"),
        outFeatures: a.int("out_features"), bias: a.bool("bias"))
    case "Embedding", "EmbeddingBag":
      return try Formula.embedding(
        numEmbeddings: a.int("num_embeddings"), embeddingDim: a.int("embedding_dim"),
        bag: type == "EmbeddingBag")
    case "BatchNorm1d", "BatchNorm2d", "BatchNorm3d":
      return try Formula.batchNorm(
        numFeatures: a.int("num_features"), affine: a.bool("affine"),
        trackRunningStats: a.bool("track_running_stats"))
    case "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d":
      return try Formula.instanceNorm(
        numFeatures: a.int("num_features"), affine: a.bool("affine"),
        trackRunningStats: a.bool("track_running_stats"))
    case "LayerNorm":
      return try Formula.layerNorm(
        normalizedShape: a.shape("normalized_shape"),
        elementwiseAffine: a.bool("elementwise_affine"), bias: a.bool("bias"))
    case "GroupNorm":
      return try Formula.groupNorm(
        numGroups: a.int("num_groups"), numChannels: a.int("num_channels"),
        affine: a.bool("affine"))
    case "RMSNorm":
      return try Formula.rmsNorm(
        normalizedShape: a.shape("normalized_shape"),
        elementwiseAffine: a.bool("elementwise_affine"))
    case "RNN", "LSTM", "GRU":
      let kind: LayerKind = type == "LSTM" ? .lstm : type == "GRU" ? .gru : .rnn
      return try Formula.recurrent(
        kind, inputSize: a.int("input_size"), hiddenSize: a.int("hidden_size"),
        numLayers: a.int("num_layers"), bias: a.bool("bias"),
        bidirectional: a.bool("bidirectional"),
        projSize: type == "LSTM" ? a.int("proj_size") : 0)
    case "MultiheadAttention":
      return try Formula.multiheadAttention(
        embedDim: a.int("embed_dim"), kdim: a.optionalInt("kdim"), vdim: a.optionalInt("vdim"),
        bias: a.bool("bias"), addBiasKV: a.bool("add_bias_kv"))
    case "TransformerEncoderLayer":
      return try Formula.transformerEncoderLayer(
        dModel: a.int("d_model"), dimFeedforward: a.int("dim_feedforward"), bias: a.bool("bias"))
    case "TransformerDecoderLayer":
      return try Formula.transformerDecoderLayer(
        dModel: a.int("d_model"), dimFeedforward: a.int("dim_feedforward"), bias: a.bool("bias"))
    case "PReLU":
      return try Formula.prelu(numParameters: a.int("num_parameters"))
    default:
      return Formula.parameterless
    }
  }
}

/// A spec module's arguments, read with errors that point at the layer.
struct Arguments {
  let module: SpecModule
  let file: String

  func fail(_ message: String) -> SpecError {
    SpecError(
      .argument, file: file, line: module.line, column: module.column,
      "\(module.type) `\(module.path)`: \(message)")
  }

  func int(_ name: String) throws(SpecError) -> Int {
    guard let value = module.int(name) else {
      throw fail("`\(name)` must be an integer, not \(module.arguments[name] ?? .none)")
    }
    return value
  }

  func optionalInt(_ name: String) throws(SpecError) -> Int? {
    if module.arguments[name] == nil || module.arguments[name] == SpecValue.none { return nil }
    return try int(name)
  }

  func bool(_ name: String) throws(SpecError) -> Bool {
    guard let value = module.bool(name) else {
      throw fail("`\(name)` must be True or False, not \(module.arguments[name] ?? .none)")
    }
    return value
  }

  /// An int or a tuple of `count` ints.
  func ints(_ name: String, count: Int) throws(SpecError) -> [Int] {
    switch module.arguments[name] ?? .none {
    case .int(let v): return Array(repeating: v, count: count)
    case .tuple(let items) where items.count == count:
      let values = items.compactMap(\.intValue)
      if values.count == count { return values }
    default: break
    }
    throw fail("`\(name)` must be an integer or a tuple of \(count) integers")
  }

  /// An int or a tuple of ints of any length: `normalized_shape`.
  func shape(_ name: String) throws(SpecError) -> [Int] {
    switch module.arguments[name] ?? .none {
    case .int(let v): return [v]
    case .tuple(let items):
      let values = items.compactMap(\.intValue)
      if values.count == items.count { return values }
    default: break
    }
    throw fail("`\(name)` must be an integer or a tuple of integers")
  }
}
