/// What a tensor is for inside its layer.
public enum TensorRole: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
  case weight, bias
  case runningMean = "running_mean"
  case runningVar = "running_var"
  case numBatchesTracked = "num_batches_tracked"
  /// A buffer that is not one of the running statistics.
  case buffer
  /// An ONNX shape, axes or index operand, or another non-weight tensor.
  case constant
  case optimizerState = "optimizer_state"
  /// A tensor of a secondary collection beside the model weights (an EMA copy, a teacher
  /// model): listed, never counted as a parameter.
  case otherSection = "other_section"
  case other
}

/// Where a tensor's bytes are, for formats that keep them in a storage record or a file range.
public struct TensorStorage: Sendable, Equatable, Hashable, Codable {
  /// The storage record's key (`"0"` for `archive/data/0`), or the ONNX external file's location.
  public var key: String
  /// Offset of the tensor's first element in the storage, in elements.
  public var offsetElements: Int
  /// Strides, in elements; empty where the format has none (ONNX).
  public var stride: [Int]
  /// Size of the storage record, in bytes, when known.
  public var recordBytes: Int?
  /// Absolute offset of the tensor's bytes in the file that holds them, when known.
  public var fileOffset: Int?

  @inlinable
  public init(key: String, offsetElements: Int = 0, stride: [Int] = [], recordBytes: Int? = nil, fileOffset: Int? = nil) {
    self.key = key
    self.offsetElements = offsetElements
    self.stride = stride
    self.recordBytes = recordBytes
    self.fileOffset = fileOffset
  }
}

/// One use of an ONNX initializer by a graph node: which operator, and which input it fills.
public struct OperatorUse: Sendable, Equatable, Hashable, Codable {
  /// `Conv`, `Gemm`, `BatchNormalization`, ...
  public var opType: String
  /// The node's name, or a made-up `Conv_3` when the node has none.
  public var node: String
  /// Operator domain; empty for the default ONNX domain.
  public var domain: String
  /// Index of the input this tensor fills.
  public var inputIndex: Int
  /// Integer and integer-list attributes of the node (`kernel_shape`, `group`, `transB`).
  public var attributes: [String: [Int]]
  /// The graph the node sits in: empty for the main graph, else a path such as `Loop_0/body`.
  public var graph: String

  @inlinable
  public init(opType: String, node: String, domain: String = "", inputIndex: Int, attributes: [String: [Int]] = [:], graph: String = "") {
    self.opType = opType
    self.node = node
    self.domain = domain
    self.inputIndex = inputIndex
    self.attributes = attributes
    self.graph = graph
  }
}

/// One tensor as a file describes it: never its values.
public struct TensorInfo: Sendable, Equatable, Codable {
  /// Full dotted name as the framework prints it (`layer1.0.bn1.running_mean`), or the ONNX
  /// initializer name.
  public var name: String
  public var shape: [Int]
  public var dtype: DType
  /// Product of `shape`; 1 for a 0-d tensor.
  public var elements: Int
  /// Bytes the elements occupy (0 for strings of unknown size).
  public var bytes: Int
  /// Where the bytes live; nil when the format keeps them inline without a record.
  public var storage: TensorStorage?
  /// Name of an earlier tensor this one shares its storage with (tied weights).
  public var sharedWith: String?
  /// What the file itself says about trainability (`requires_grad` of a pickled
  /// `Parameter`, ONNX `training_info`); nil when the file cannot say.
  public var declaredTrainable: Bool?
  /// Whether the file declared this a parameter (true) or a buffer (false); nil when unknown.
  public var declaredParameter: Bool?
  /// ONNX only: the nodes that consume this tensor.
  public var uses: [OperatorUse]
  /// Where the tensor came from inside the file: `""` for the main tensors, else a section
  /// such as `optimizer` or `Constant node Constant_3`.
  public var section: String
  /// Extra facts (quantization scale, ONNX data location), as short `key=value` notes.
  public var notes: [String]

  @inlinable
  public init(
    name: String, shape: [Int], dtype: DType, elements: Int, bytes: Int,
    storage: TensorStorage? = nil, sharedWith: String? = nil, declaredTrainable: Bool? = nil,
    declaredParameter: Bool? = nil, uses: [OperatorUse] = [], section: String = "", notes: [String] = []
  ) {
    self.name = name
    self.shape = shape
    self.dtype = dtype
    self.elements = elements
    self.bytes = bytes
    self.storage = storage
    self.sharedWith = sharedWith
    self.declaredTrainable = declaredTrainable
    self.declaredParameter = declaredParameter
    self.uses = uses
    self.section = section
    self.notes = notes
  }
}
