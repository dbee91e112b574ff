import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// A tensor as a `torch._utils._rebuild_*` call describes it, before its storage is checked.
struct TensorRebuild: Equatable {
  var storageKey: String
  var dtype: DType
  var storageOffset: Int
  var shape: [Int]
  var stride: [Int]
  var requiresGrad: Bool
  /// True for `_rebuild_parameter` (an `nn.Parameter`); nil when the pickle does not say.
  var isParameter: Bool?
  var notes: [String]
  /// Offset of the opcode that made the rebuild call.
  var offset: Int

  init(
    storageKey: String, dtype: DType, storageOffset: Int, shape: [Int], stride: [Int],
    requiresGrad: Bool, isParameter: Bool?, notes: [String], offset: Int
  ) {
    self.storageKey = storageKey
    self.dtype = dtype
    self.storageOffset = storageOffset
    self.shape = shape
    self.stride = stride
    self.requiresGrad = requiresGrad
    self.isParameter = isParameter
    self.notes = notes
    self.offset = offset
  }

  /// What a rebuild global is, looked up once per global in a pickle: a checkpoint names the
  /// same memoized global for every tensor.
  enum Function: Equatable {
    case tensor, tensorV2, tensorV3, qtensor, parameter, fromTypeV2

    init?(_ global: PickleGlobal) {
      switch (global.module, global.name) {
      case ("torch._utils", "_rebuild_tensor"): self = .tensor
      case ("torch._utils", "_rebuild_tensor_v2"): self = .tensorV2
      case ("torch._utils", "_rebuild_tensor_v3"): self = .tensorV3
      case ("torch._utils", "_rebuild_qtensor"): self = .qtensor
      case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
        self = .parameter
      case ("torch._tensor", "_rebuild_from_type_v2"): self = .fromTypeV2
      default: return nil
      }
    }
  }

  /// Lookups by global use (``PickleDocument/globals`` index), made once per pickle; the last
  /// answer is kept apart, since a checkpoint names the same memoized global every time.
  ///
  /// A class, one per walk: a walker passing its own cache `inout` beside its own document
  /// would copy the document for every call.
  final class Cache {
    private var functions: [Int: Function?] = [:]
    private var lastFunction: (use: Int, function: Function?)?
    private var storages: [Int: DType??] = [:]
    private var lastStorage: (use: Int, dtype: DType??)?
    /// The last size and stride read: neighbouring tensors often share them, and then share
    /// one array instead of allocating another.
    private var recent: [[Int]] = [[], []]

    init() {}

    /// The last integers read for `slot` (0 size, 1 stride) when `items` holds the same ones.
    func recent(_ slot: Int, matching items: PickleValues) -> [Int]? {
      let known = recent[slot]
      guard known.count == items.count, !known.isEmpty else { return nil }
      for (number, item) in zip(known, items) {
        guard case .int(let value) = item, Int(value) == number else { return nil }
      }
      return known
    }

    func remember(_ numbers: [Int], slot: Int) { recent[slot] = numbers }

    func function(_ value: PickleValue) -> Function? {
      guard case .global(let global, let use) = value else { return nil }
      if let last = lastFunction, last.use == use { return last.function }
      let function: Function?
      if let known = functions[use] {
        function = known
      } else {
        function = Function(global)
        functions[use] = function
      }
      lastFunction = (use, function)
      return function
    }

    func storageDType(_ value: PickleValue) -> DType?? {
      guard case .global(let global, let use) = value else { return nil }
      if let last = lastStorage, last.use == use { return last.dtype }
      let dtype: DType??
      if let known = storages[use] {
        dtype = known
      } else {
        dtype = TorchStorageType.dtype(ofStorage: global)
        storages[use] = dtype
      }
      lastStorage = (use, dtype)
      return dtype
    }
  }

  /// The rebuild call `value` is, nil when it is not one; throws when it is one with bad arguments.
  ///
  /// Reads `_rebuild_tensor`, `_rebuild_tensor_v2(storage, storage_offset, size, stride,
  /// requires_grad, backward_hooks[, metadata])`, `_rebuild_tensor_v3(..., dtype[, metadata])`,
  /// `_rebuild_qtensor`, `_rebuild_parameter(data, requires_grad, backward_hooks)`,
  /// `_rebuild_parameter_with_state` and `torch._tensor._rebuild_from_type_v2`.
  init?(
    _ value: PickleValue, in document: PickleDocument, limits: Limits, cache: Cache,
    depth: Int = 0
  ) throws(ReadError) {
    guard let call = document.object(value) else { return nil }
    let callable = call.callable
    guard let function = cache.function(callable), let global = callable.globalValue else {
      return nil
    }
    try self.init(
      calling: function, global, with: call.arguments, at: document.offset(of: value) ?? 0,
      in: document, limits: limits, cache: cache, depth: depth)
  }

  private init?(
    calling function: Function, _ global: PickleGlobal, with argumentTuple: PickleValue,
    at offset: Int, in document: PickleDocument, limits: Limits, cache: Cache, depth: Int
  ) throws(ReadError) {
    guard depth <= limits.objectDepth else {
      throw ReadError(
        .limitExceeded, at: offset,
        "tensor rebuild calls nest deeper than \(limits.objectDepth) (Limits.objectDepth)")
    }
    let arguments = document.sequence(argumentTuple) ?? .empty
    let call = Call(function: global, arguments: argumentTuple, offset: offset)
    func fail(_ message: String) -> ReadError { call.fail(message, in: document) }
    switch function {
    case .tensor, .tensorV2, .tensorV3, .qtensor:
      let minimum = function == .tensor ? 4 : function == .tensorV3 ? 7 : 6
      guard arguments.count >= minimum else { throw fail("expected at least \(minimum) arguments") }
      let (key, storageDType, viewOffset) = try Self.storage(
        arguments[0], in: document, cache: cache, call)
      var dtype = storageDType ?? .uint8
      var notes: [String] = []
      if function == .tensorV3 {
        guard let global = arguments[6].globalValue, let named = TorchStorageType.dtype(of: global)
        else {
          throw ReadError(
            .unsupported, at: offset,
            "dtype \(document.describe(arguments[6])) is not one WeightScope reads")
        }
        dtype = named
      } else if storageDType == nil {
        throw fail("an untyped storage needs a dtype")
      }
      guard case .int(let offsetInView) = arguments[1], offsetInView >= 0 else {
        throw fail(
          "storage offset \(document.describe(arguments[1])) is not a non-negative integer")
      }
      // A legacy storage view starts `viewOffset` elements into its root storage.
      let storageOffset = try Int(offsetInView).adding(viewOffset, at: offset, "storage offset")
      let shape = try Self.integers(
        arguments[2], "size", in: document, limits: limits, cache: cache, slot: 0, call)
      let stride = try Self.integers(
        arguments[3], "stride", in: document, limits: limits, cache: cache, slot: 1, call)
      guard shape.count == stride.count else { throw fail("size and stride differ in length") }
      guard stride.allSatisfy({ $0 >= 0 }) else { throw fail("negative stride") }
      var requiresGrad = false
      if function == .qtensor {
        notes += Self.quantizerNotes(arguments[4], in: document)
        requiresGrad = arguments.count > 5 && arguments[5] == .bool(true)
      } else if arguments.count > 4 {
        requiresGrad = arguments[4] == .bool(true)
      }
      self.init(
        storageKey: key, dtype: dtype, storageOffset: storageOffset, shape: shape,
        stride: stride,
        requiresGrad: requiresGrad, isParameter: nil, notes: notes, offset: offset)
    case .parameter:
      guard arguments.count >= 2,
        let data = try TensorRebuild(
          arguments[0], in: document, limits: limits, cache: cache, depth: depth + 1)
      else {
        throw fail("the data is not a tensor")
      }
      self = data
      self.isParameter = true
      self.requiresGrad = arguments[1] == .bool(true)
      self.offset = offset
    case .fromTypeV2:
      // (func, new_type, args, state): func(*args) made the tensor, new_type is its class.
      guard arguments.count >= 3, let inner = arguments[0].globalValue else {
        throw fail("expected (function, type, arguments, state)")
      }
      guard let innerFunction = cache.function(arguments[0]),
        let data = try TensorRebuild(
          calling: innerFunction, inner, with: arguments[2], at: offset, in: document,
          limits: limits, cache: cache, depth: depth + 1)
      else { return nil }
      self = data
      if let type = arguments[1].globalValue {
        if type == PickleGlobal("torch.nn.parameter", "Parameter") {
          isParameter = true
        } else if type != PickleGlobal("torch", "Tensor") {
          notes.append("class=\(type)")
        }
      }
    }
  }

  /// `qscheme=per_tensor_affine`, `scale=0.05`, `zero_point=0` from `_rebuild_qtensor`'s
  /// quantizer tuple; per-channel schemes give the axis (their scales are tensors).
  static func quantizerNotes(_ value: PickleValue, in document: PickleDocument) -> [String] {
    guard let fields = document.sequence(value), let scheme = fields.first?.globalValue else {
      return ["quantizer=\(document.describe(value, budget: 8))"]
    }
    var notes = ["qscheme=\(scheme.name)"]
    switch scheme.name {
    case "per_tensor_affine", "per_tensor_symmetric":
      if fields.count > 1 { notes.append("scale=\(document.describe(fields[1], budget: 1))") }
      if fields.count > 2 { notes.append("zero_point=\(document.describe(fields[2], budget: 1))") }
    case "per_channel_affine", "per_channel_symmetric", "per_channel_affine_float_qparams":
      if fields.count > 3 { notes.append("axis=\(document.describe(fields[3], budget: 1))") }
    default:
      break
    }
    return notes
  }

  /// The key, element type and view offset of a `('storage', storage_type, key, location,
  /// numel[, view_metadata])` persistent id.
  ///
  /// Legacy files may add `view_metadata` = `(view_key, offset, size)`: the tensor's storage is
  /// a view `offset` elements into the root storage `key`; nil means no view (offset 0).
  private static func storage(
    _ value: PickleValue, in document: PickleDocument, cache: Cache, _ call: Call
  ) throws(ReadError) -> (String, DType?, Int) {
    func fail(_ message: String) -> ReadError { call.fail(message, in: document) }
    guard let pid = document.persistentID(value), let fields = document.sequence(pid),
      fields.count >= 3, case .string(let tag) = fields[0], tag == "storage"
    else {
      throw fail("the storage is not a ('storage', type, key, location, numel) persistent id")
    }
    guard let dtype = cache.storageDType(fields[1]) else {
      throw fail("unknown storage type \(document.describe(fields[1]))")
    }
    var viewOffset = 0
    if fields.count >= 6, fields[5] != .none {
      guard let view = document.sequence(fields[5]), view.count == 3,
        case .int(let start) = view[1], start >= 0, case .int(let size) = view[2], size >= 0
      else {
        throw fail("view metadata \(document.describe(fields[5])) is not (key, offset, size)")
      }
      if case .int(let rootSize) = fields[4] {
        let (end, overflow) = start.addingReportingOverflow(size)
        guard !overflow, end <= rootSize else {
          throw fail("view of \(size) elements at \(start) overruns its storage of \(rootSize)")
        }
      }
      viewOffset = Int(start)
    }
    switch fields[2] {
    case .string(let key): return (key, dtype, viewOffset)
    case .int(let key): return (String(key), dtype, viewOffset)
    default: throw fail("storage key \(document.describe(fields[2])) is not a string")
    }
  }

  /// A tuple of integers (`size`, `stride`), also when wrapped in `torch.Size(...)`.
  private static func integers(
    _ value: PickleValue, _ what: String, in document: PickleDocument, limits: Limits,
    cache: Cache, slot: Int, _ call: Call
  ) throws(ReadError) -> [Int] {
    func fail(_ message: String) -> ReadError { call.fail(message, in: document) }
    var items = document.sequence(value)
    if items == nil, let call = document.object(value),
      call.callableGlobal == PickleGlobal("torch", "Size"),
      let first = document.sequence(call.arguments)?.first
    {
      items = document.sequence(first)
    }
    guard let items else { throw fail("\(what) is not a tuple") }
    guard items.count <= limits.tensorRank else {
      throw ReadError(
        .limitExceeded, at: document.offset(of: value),
        "\(what) has \(items.count) dimensions, over \(limits.tensorRank) (Limits.tensorRank)")
    }
    if let known = cache.recent(slot, matching: items) { return known }
    var numbers: [Int] = []
    numbers.reserveCapacity(items.count)  // Checked against Limits.tensorRank above.
    for item in items {
      guard case .int(let number) = item else {
        throw fail("\(what) holds \(document.describe(item))")
      }
      numbers.append(Int(number))
    }
    cache.remember(numbers, slot: slot)
    return numbers
  }

  /// The rebuild call being read, for error messages.
  struct Call {
    var function: PickleGlobal
    var arguments: PickleValue
    var offset: Int

    /// A malformed-call error: the call as the file spells it, then `message`.
    func fail(_ message: String, in document: PickleDocument) -> ReadError {
      ReadError(.malformed, at: offset, "\(function)\(document.describe(arguments)): \(message)")
    }
  }

}
