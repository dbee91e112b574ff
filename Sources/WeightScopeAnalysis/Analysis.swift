import WeightScopeModel

/// Why a tensor counts as trainable or not: a short stable id and the rule in words.
///
/// Rules are tried in the order of the cases; the first that applies decides.
public enum TrainabilityRule: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
  /// Optimizer state stored beside the model: not a parameter at all.
  case optimizer
  /// A secondary collection beside the model weights (an EMA copy): not counted.
  case otherSection = "other-section"
  /// An ONNX shape, axes or index operand: not a parameter at all.
  case constant
  /// Quantized tensors and everything in a quantized module (`_packed_params`, `scale`,
  /// `zero_point`): torch's quantized modules register no parameters.
  case quantized
  /// The file says so (`requires_grad`, parameter vs buffer).
  case declared
  /// `running_mean`, `running_var`: statistics, not trained.
  case runningStat = "running-stat"
  /// `num_batches_tracked`: a counter.
  case counter
  /// Integer and boolean tensors cannot be trained by gradient descent.
  case integerDType = "integer-dtype"
  /// A buffer by its well-known name (`position_ids`, `inv_freq`, ...).
  case buffer
  /// A weight or bias of a layer whose kind is known.
  case knownLayer = "known-layer"
  /// A floating-point tensor the analysis cannot place: counted trainable, and said so.
  case unknownLayer = "unknown-layer"

  /// The rule in words, for reports.
  public var text: String {
    switch self {
    case .optimizer: "optimizer state: not a model parameter"
    case .otherSection: "secondary section (EMA copy, teacher): not counted"
    case .constant: "graph constant (shape, axes or index operand): not a parameter"
    case .quantized: "quantized tensor or module: non-trainable"
    case .declared: "the file declares it"
    case .runningStat: "running statistic: non-trainable"
    case .counter: "num_batches_tracked counter: non-trainable"
    case .integerDType: "integer or boolean dtype: non-trainable"
    case .buffer: "buffer by its name: non-trainable"
    case .knownLayer: "weight or bias of a known layer: trainable"
    case .unknownLayer: "floating-point tensor of an unknown layer: assumed trainable"
    }
  }
}

/// One tensor with what the analysis made of it.
public struct AnalyzedTensor: Sendable, Equatable, Codable {
  /// The file's tensors, shared by every tensor of one analysis: a tensor is not copied.
  @usableFromInline let table: TensorTable
  @usableFromInline let position: Int
  /// Name of the layer (module) that owns it.
  public var layer: String
  /// Name inside the layer: `weight`, `weight_ih_l0`; for ONNX the operand (`weight`, `W`).
  public var localName: String
  public var role: TensorRole
  /// Whether it is trained; false for constants and optimizer state.
  public var trainable: Bool
  /// The rule that decided `trainable`.
  public var rule: TrainabilityRule

  /// The tensor as the file describes it, read in place.
  @inlinable public var info: TensorInfo {
    _read { yield table.tensors[position] }
  }

  public init(
    info: TensorInfo, layer: String, localName: String, role: TensorRole, trainable: Bool,
    rule: TrainabilityRule
  ) {
    self.init(
      TensorTable([info]), 0, layer: layer, localName: localName, role: role,
      trainable: trainable, rule: rule)
  }

  /// The tensor at `position` of `table`, which must hold it.
  init(
    _ table: TensorTable, _ position: Int, layer: String, localName: String, role: TensorRole,
    trainable: Bool, rule: TrainabilityRule
  ) {
    precondition(table.tensors.indices.contains(position), "AnalyzedTensor position")
    self.table = table
    self.position = position
    self.layer = layer
    self.localName = localName
    self.role = role
    self.trainable = trainable
    self.rule = rule
  }

  /// A parameter or buffer of the model: neither a constant nor optimizer state.
  public var isParameter: Bool {
    role != .constant && role != .optimizerState && role != .otherSection
  }
  /// Elements this tensor adds to the totals: 0 when it shares an earlier tensor's storage.
  public var countedElements: Int { info.sharedWith == nil ? info.elements : 0 }
  /// Bytes this tensor adds to the totals: 0 when it shares an earlier tensor's storage.
  public var countedBytes: Int { info.sharedWith == nil ? info.bytes : 0 }

  public static func == (a: AnalyzedTensor, b: AnalyzedTensor) -> Bool {
    a.layer == b.layer && a.localName == b.localName && a.role == b.role
      && a.trainable == b.trainable && a.rule == b.rule && a.info == b.info
  }

  private enum CodingKeys: String, CodingKey {
    case info, layer, localName, role, trainable, rule
  }

  public init(from decoder: any Decoder) throws {
    let values = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      info: try values.decode(TensorInfo.self, forKey: .info),
      layer: try values.decode(String.self, forKey: .layer),
      localName: try values.decode(String.self, forKey: .localName),
      role: try values.decode(TensorRole.self, forKey: .role),
      trainable: try values.decode(Bool.self, forKey: .trainable),
      rule: try values.decode(TrainabilityRule.self, forKey: .rule))
  }

  public func encode(to encoder: any Encoder) throws {
    var values = encoder.container(keyedBy: CodingKeys.self)
    try values.encode(info, forKey: .info)
    try values.encode(layer, forKey: .layer)
    try values.encode(localName, forKey: .localName)
    try values.encode(role, forKey: .role)
    try values.encode(trainable, forKey: .trainable)
    try values.encode(rule, forKey: .rule)
  }
}

/// Tensors that ``AnalyzedTensor``s read in place: the file's own array, shared, not copied.
@usableFromInline final class TensorTable: Sendable {
  @usableFromInline let tensors: [TensorInfo]

  init(_ tensors: [TensorInfo]) { self.tensors = tensors }
}

/// A formula checked against the tensors of a layer.
public struct FormulaCheck: Sendable, Equatable, Codable {
  public var formula: Formula
  /// `((3*3*3)+1)*32`.
  public var text: String
  /// The count the formula predicts.
  public var expected: Int
  /// Elements of the layer's tensors that the formula covers (tied tensors included).
  public var actual: Int
  /// Whether every predicted tensor is present with its shape, and nothing else.
  public var matches: Bool
  /// What disagrees, one line each; empty when `matches`.
  public var problems: [String]
}

/// Tensors grouped by the module that owns them.
public struct Layer: Sendable, Equatable, Codable {
  public var name: String
  public var kind: LayerKind
  /// Indices into `Analysis.tensors`, in file order.
  public var tensorIndices: [Int]
  /// `trainable` + `nonTrainable`; shared tensors count once, in their first layer.
  public var parameters: Int
  public var trainable: Int
  public var nonTrainable: Int
  public var constants: Int
  public var optimizerState: Int
  /// Present when the kind is known.
  public var formula: FormulaCheck?
  /// What the analysis assumed or could not know about this layer.
  public var notes: [String]
}

/// Counts over the whole file. `elements` = `parameters` + `constants` + `optimizerState` +
/// `otherSections`.
public struct Totals: Sendable, Equatable, Codable {
  /// Where the non-trainable parameters come from.
  public struct NonTrainable: Sendable, Equatable, Codable {
    public var runningStats = 0
    public var numBatchesTracked = 0
    /// Other buffers (by name, by dtype, or declared so).
    public var buffers = 0
    /// Parameters the file declares frozen (`requires_grad=False`).
    public var frozen = 0
  }

  /// Elements and bytes of one dtype.
  public struct DTypeCount: Sendable, Equatable, Codable {
    public var dtype: DType
    public var elements: Int
    public var bytes: Int
  }

  public var tensors = 0
  public var elements = 0
  public var parameters = 0
  public var trainable = 0
  public var nonTrainable = 0
  public var nonTrainableBreakdown = NonTrainable()
  public var constants = 0
  public var optimizerState = 0
  /// Elements of secondary sections (an EMA copy, a teacher model), never counted as parameters.
  public var otherSections = 0
  public var bytes = 0
  /// Per dtype, in the order first seen.
  public var byDType: [DTypeCount] = []
}

/// A file's tensors grouped into layers, classified, counted and checked against formulas.
public struct Analysis: Sendable, Equatable, Codable {
  /// The file as the reader produced it.
  public var file: WeightFile
  /// Every tensor, in file order, with its layer, role and trainability.
  public var tensors: [AnalyzedTensor]
  /// In file order of their first tensor.
  public var layers: [Layer]
  public var totals: Totals
  /// The file's own findings, then the analysis's (formula mismatches, assumptions).
  public var findings: [Finding]
}
