/// The constructor of a `torch.nn` layer: its parameters in order, and how it changes a shape.
public struct LayerSignature: Sendable, Equatable {
  /// One constructor parameter.
  public struct Parameter: Sendable, Equatable {
    /// What happens when a call leaves the parameter out.
    public enum Default: Sendable, Equatable {
      /// The call must give it.
      case required
      /// Filled in with this value.
      case value(SpecValue)
      /// Left out of ``SpecModule/arguments`` (`device`, `dtype`, tensors such as `_weight`).
      case omitted
    }

    public var name: String
    public var defaultValue: Default
    /// Declared after `*` in Python: it can only be given by keyword.
    public var keywordOnly: Bool
  }

  /// The `torch.nn` class name.
  public var type: String
  public var parameters: [Parameter]
  /// How the layer maps an input shape to an output shape.
  public var shapeRule: ShapeRule
  /// The layer accepts and ignores any arguments (`nn.Identity`).
  public var ignoresArguments: Bool = false

  /// The parameters that a positional argument can fill, in order.
  var positional: [Parameter] { parameters.filter { !$0.keywordOnly } }

  func parameter(named name: String) -> Parameter? {
    parameters.first { $0.name == name }
  }
}

/// How a layer maps its input shape (batch dimension excluded) to its output shape.
public enum ShapeRule: Sendable, Equatable {
  /// The output has the input's shape (activations, dropout, identity).
  case same
  /// `ConvNd` over `dims` spatial dimensions.
  case convolution(dims: Int)
  /// `ConvTransposeNd`.
  case transposedConvolution(dims: Int)
  /// `MaxPoolNd` (with dilation) or `AvgPoolNd` (without).
  case pool(dims: Int, dilated: Bool)
  /// `AdaptiveAvgPoolNd` and `AdaptiveMaxPoolNd`.
  case adaptivePool(dims: Int)
  case linear
  /// `Bilinear`: takes two inputs, so it cannot follow another layer in a `Sequential`.
  case bilinear
  case embedding
  case embeddingBag
  /// `BatchNormNd` and `InstanceNormNd`: channels first, `dims` spatial dimensions (BatchNorm1d
  /// also takes a 2-d `(N, C)` input).
  case batchNorm(dims: Int)
  case instanceNorm(dims: Int)
  /// `LayerNorm` and `RMSNorm`: the last dimensions match `normalized_shape`.
  case layerNorm
  case groupNorm
  /// `RNN`, `LSTM` and `GRU`.
  case recurrent
  case multiheadAttention
  case transformerLayer
  case prelu
  case flatten
  case unflatten
  case upsample
  /// `ZeroPadNd`.
  case zeroPad(dims: Int)
  case sequential
}
