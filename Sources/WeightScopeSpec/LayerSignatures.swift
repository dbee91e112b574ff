/// The `torch.nn` layers a spec may use, with their constructors as torch 2 declares them.
///
/// Data only: parameter names, order and defaults follow `inspect.signature` of each class
/// (`RNN`, `LSTM` and `GRU` take `*args` in Python; their lists follow `RNNBase` as each class
/// forwards to it). Adding a layer is adding an entry.
public enum LayerSignatures {
  /// The signature of `type`, or nil for a layer WeightScope does not know.
  public static func signature(of type: String) -> LayerSignature? { table[type] }

  /// Every known layer type, sorted.
  public static var knownTypes: [String] { table.keys.sorted() }

  static let table: [String: LayerSignature] = Dictionary(
    all.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })

  typealias P = LayerSignature.Parameter

  private static func req(_ name: String) -> P {
    P(name: name, defaultValue: .required, keywordOnly: false)
  }
  private static func opt(_ name: String, _ value: SpecValue) -> P {
    P(name: name, defaultValue: .value(value), keywordOnly: false)
  }
  private static func keyword(_ name: String, _ value: SpecValue) -> P {
    P(name: name, defaultValue: .value(value), keywordOnly: true)
  }
  private static func omitted(_ name: String) -> P {
    P(name: name, defaultValue: .omitted, keywordOnly: false)
  }
  private static let factory = [omitted("device"), omitted("dtype")]

  private static func layer(_ type: String, _ rule: ShapeRule, _ parameters: [P]) -> LayerSignature
  {
    LayerSignature(type: type, parameters: parameters, shapeRule: rule)
  }

  private static let convolution =
    [
      req("in_channels"), req("out_channels"), req("kernel_size"), opt("stride", 1),
      opt("padding", 0), opt("dilation", 1), opt("groups", 1), opt("bias", true),
      opt("padding_mode", "zeros"),
    ] + factory
  private static let transposedConvolution =
    [
      req("in_channels"), req("out_channels"), req("kernel_size"), opt("stride", 1),
      opt("padding", 0), opt("output_padding", 0), opt("groups", 1), opt("bias", true),
      opt("dilation", 1), opt("padding_mode", "zeros"),
    ] + factory
  private static let batchNorm =
    [
      req("num_features"), opt("eps", 1e-5), opt("momentum", 0.1), opt("affine", true),
      opt("track_running_stats", true),
    ] + factory + [keyword("bias", true)]
  private static let instanceNorm =
    [
      req("num_features"), opt("eps", 1e-5), opt("momentum", 0.1), opt("affine", false),
      opt("track_running_stats", false),
    ] + factory + [keyword("bias", true)]
  private static let recurrent =
    [
      req("input_size"), req("hidden_size"), opt("num_layers", 1), opt("bias", true),
      opt("batch_first", false), opt("dropout", 0.0), opt("bidirectional", false),
    ]
  private static let transformerLayer =
    [
      req("d_model"), req("nhead"), opt("dim_feedforward", 2048), opt("dropout", 0.1),
      opt("activation", "relu"), opt("layer_norm_eps", 1e-5), opt("batch_first", false),
      opt("norm_first", false), opt("bias", true),
    ] + factory
  private static let maxPool =
    [
      req("kernel_size"), opt("stride", .none), opt("padding", 0), opt("dilation", 1),
      opt("return_indices", false), opt("ceil_mode", false),
    ]
  private static let avgPool =
    [
      req("kernel_size"), opt("stride", .none), opt("padding", 0), opt("ceil_mode", false),
      opt("count_include_pad", true),
    ]
  private static let inplace = [opt("inplace", false)]
  private static let dropout = [opt("p", 0.5), opt("inplace", false)]
  private static let dim = [opt("dim", .none)]

  private static let all: [LayerSignature] = [
    layer("Sequential", .sequential, []),

    layer("Conv1d", .convolution(dims: 1), convolution),
    layer("Conv2d", .convolution(dims: 2), convolution),
    layer("Conv3d", .convolution(dims: 3), convolution),
    layer("ConvTranspose1d", .transposedConvolution(dims: 1), transposedConvolution),
    layer("ConvTranspose2d", .transposedConvolution(dims: 2), transposedConvolution),
    layer("ConvTranspose3d", .transposedConvolution(dims: 3), transposedConvolution),

    layer(
      "Linear", .linear, [req("in_features"), req("out_features"), opt("bias", true)] + factory),
    layer(
      "Bilinear", .bilinear,
      [req("in1_features"), req("in2_features"), req("out_features"), opt("bias", true)] + factory),
    layer(
      "Embedding", .embedding,
      [
        req("num_embeddings"), req("embedding_dim"), opt("padding_idx", .none),
        opt("max_norm", .none), opt("norm_type", 2.0), opt("scale_grad_by_freq", false),
        opt("sparse", false), omitted("_weight"), omitted("_freeze"),
      ] + factory),
    layer(
      "EmbeddingBag", .embeddingBag,
      [
        req("num_embeddings"), req("embedding_dim"), opt("max_norm", .none), opt("norm_type", 2.0),
        opt("scale_grad_by_freq", false), opt("mode", "mean"), opt("sparse", false),
        omitted("_weight"), opt("include_last_offset", false), opt("padding_idx", .none),
      ]
        + factory),

    layer("BatchNorm1d", .batchNorm(dims: 1), batchNorm),
    layer("BatchNorm2d", .batchNorm(dims: 2), batchNorm),
    layer("BatchNorm3d", .batchNorm(dims: 3), batchNorm),
    layer("InstanceNorm1d", .instanceNorm(dims: 1), instanceNorm),
    layer("InstanceNorm2d", .instanceNorm(dims: 2), instanceNorm),
    layer("InstanceNorm3d", .instanceNorm(dims: 3), instanceNorm),
    layer(
      "LayerNorm", .layerNorm,
      [
        req("normalized_shape"), opt("eps", 1e-5), opt("elementwise_affine", true),
        opt("bias", true),
      ] + factory),
    layer(
      "GroupNorm", .groupNorm,
      [req("num_groups"), req("num_channels"), opt("eps", 1e-5), opt("affine", true)] + factory
        + [keyword("bias", true)]),
    layer(
      "RMSNorm", .layerNorm,
      [req("normalized_shape"), opt("eps", .none), opt("elementwise_affine", true)] + factory),

    layer(
      "RNN", .recurrent,
      [
        req("input_size"), req("hidden_size"), opt("num_layers", 1), opt("nonlinearity", "tanh"),
        opt("bias", true), opt("batch_first", false), opt("dropout", 0.0),
        opt("bidirectional", false),
      ] + factory),
    layer("LSTM", .recurrent, recurrent + [opt("proj_size", 0)] + factory),
    layer("GRU", .recurrent, recurrent + factory),
    layer(
      "MultiheadAttention", .multiheadAttention,
      [
        req("embed_dim"), req("num_heads"), opt("dropout", 0.0), opt("bias", true),
        opt("add_bias_kv", false), opt("add_zero_attn", false), opt("kdim", .none),
        opt("vdim", .none), opt("batch_first", false),
      ] + factory),
    layer("TransformerEncoderLayer", .transformerLayer, transformerLayer),
    layer("TransformerDecoderLayer", .transformerLayer, transformerLayer),

    layer("PReLU", .prelu, [opt("num_parameters", 1), opt("init", 0.25)] + factory),
    layer("ReLU", .same, inplace),
    layer("ReLU6", .same, inplace),
    layer("LeakyReLU", .same, [opt("negative_slope", 0.01), opt("inplace", false)]),
    layer("ELU", .same, [opt("alpha", 1.0), opt("inplace", false)]),
    layer("CELU", .same, [opt("alpha", 1.0), opt("inplace", false)]),
    layer("SELU", .same, inplace),
    layer("GELU", .same, [opt("approximate", "none")]),
    layer("SiLU", .same, inplace),
    layer("Mish", .same, inplace),
    layer("Sigmoid", .same, []),
    layer("Tanh", .same, []),
    layer("LogSigmoid", .same, []),
    layer("Softsign", .same, []),
    layer("Tanhshrink", .same, []),
    layer("Hardswish", .same, inplace),
    layer("Hardsigmoid", .same, inplace),
    layer(
      "Hardtanh", .same,
      [
        opt("min_val", -1.0), opt("max_val", 1.0), opt("inplace", false), omitted("min_value"),
        omitted("max_value"),
      ]),
    layer("Softplus", .same, [opt("beta", 1.0), opt("threshold", 20.0)]),
    layer("Softmax", .same, dim),
    layer("Softmin", .same, dim),
    layer("LogSoftmax", .same, dim),
    layer("Softmax2d", .same, []),

    layer("MaxPool1d", .pool(dims: 1, dilated: true), maxPool),
    layer("MaxPool2d", .pool(dims: 2, dilated: true), maxPool),
    layer("MaxPool3d", .pool(dims: 3, dilated: true), maxPool),
    layer("AvgPool1d", .pool(dims: 1, dilated: false), avgPool),
    layer("AvgPool2d", .pool(dims: 2, dilated: false), avgPool + [opt("divisor_override", .none)]),
    layer("AvgPool3d", .pool(dims: 3, dilated: false), avgPool + [opt("divisor_override", .none)]),
    layer("AdaptiveAvgPool1d", .adaptivePool(dims: 1), [req("output_size")]),
    layer("AdaptiveAvgPool2d", .adaptivePool(dims: 2), [req("output_size")]),
    layer("AdaptiveAvgPool3d", .adaptivePool(dims: 3), [req("output_size")]),
    layer(
      "AdaptiveMaxPool1d", .adaptivePool(dims: 1),
      [req("output_size"), opt("return_indices", false)]),
    layer(
      "AdaptiveMaxPool2d", .adaptivePool(dims: 2),
      [req("output_size"), opt("return_indices", false)]),
    layer(
      "AdaptiveMaxPool3d", .adaptivePool(dims: 3),
      [req("output_size"), opt("return_indices", false)]),

    layer("Flatten", .flatten, [opt("start_dim", 1), opt("end_dim", -1)]),
    layer("Unflatten", .unflatten, [req("dim"), req("unflattened_size")]),
    layer("Dropout", .same, dropout),
    layer("Dropout1d", .same, dropout),
    layer("Dropout2d", .same, dropout),
    layer("Dropout3d", .same, dropout),
    layer("AlphaDropout", .same, dropout),
    LayerSignature(type: "Identity", parameters: [], shapeRule: .same, ignoresArguments: true),
    layer(
      "Upsample", .upsample,
      [
        opt("size", .none), opt("scale_factor", .none), opt("mode", "nearest"),
        opt("align_corners", .none), opt("recompute_scale_factor", .none),
      ]),
    layer("ZeroPad1d", .zeroPad(dims: 1), [req("padding")]),
    layer("ZeroPad2d", .zeroPad(dims: 2), [req("padding")]),
    layer("ZeroPad3d", .zeroPad(dims: 3), [req("padding")]),
  ]
}
