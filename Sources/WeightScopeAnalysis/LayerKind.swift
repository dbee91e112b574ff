/// What a layer is, as far as its tensors (and, for ONNX, its operator) tell.
///
/// A state dict cannot tell `BatchNorm1d` from `BatchNorm2d`, so PyTorch files give `batchnorm`;
/// ONNX files may give the ranked spelling. `norm` stands for an affine normalization whose
/// flavour (LayerNorm, GroupNorm, InstanceNorm) the tensors do not reveal.
public enum LayerKind: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
  case conv1d, conv2d, conv3d
  case convtranspose1d, convtranspose2d, convtranspose3d
  case linear, bilinear
  case embedding, embeddingbag
  case batchnorm, batchnorm1d, batchnorm2d, batchnorm3d
  case layernorm, groupnorm, instancenorm, rmsnorm, norm
  case lstm, gru, rnn
  case multiheadattention
  case transformerencoderlayer, transformerdecoderlayer
  case prelu
  /// A layer without parameters (ReLU, MaxPool2d, Flatten, Dropout, Identity, ...).
  case parameterless
  /// ONNX shape, axes and index operands only: no parameters.
  case constants
  /// Optimizer state stored beside the model.
  case optimizer
  /// A secondary collection beside the model weights (an EMA copy, a teacher model).
  case section
  case unknown

  /// Whether the analysis knows a formula for this kind.
  public var hasFormula: Bool {
    switch self {
    case .constants, .optimizer, .section, .unknown: false
    default: true
    }
  }

  /// Convolution of `dimensions` (1, 2 or 3) spatial dimensions.
  public static func conv(dimensions: Int, transposed: Bool = false) -> LayerKind? {
    switch (dimensions, transposed) {
    case (1, false): .conv1d
    case (2, false): .conv2d
    case (3, false): .conv3d
    case (1, true): .convtranspose1d
    case (2, true): .convtranspose2d
    case (3, true): .convtranspose3d
    default: nil
    }
  }
}
