import WeightScopeModel

/// Where a tensor belongs: its layer, its name inside the layer, and its role.
struct Placement: Equatable {
  var layer: String
  var localName: String
  var role: TensorRole
  /// ONNX: which of the tensor's `uses` decided the role (the node whose operand it is), when
  /// one did.
  var useIndex: Int?
}

// MARK: - PyTorch names

/// Buffers known by name that are neither running statistics nor counters.
let knownBufferNames: Set<String> = [
  "position_ids", "token_type_ids", "inv_freq", "relative_position_index", "masked_bias",
  "_float_tensor", "attention_mask", "causal_mask",
]

/// `layer1.0.conv1.weight` -> (`layer1.0.conv1`, `weight`); `weight` -> (``, `weight`).
func splitModule(_ name: String) -> (module: String, local: String) {
  // A byte scan for ASCII names (the usual case); others take the Character search, since a
  // combining mark after `.` makes another character.
  var text = name
  let ascii: (module: String, local: String)?? = text.withUTF8 { bytes in
    var lastDot = -1
    for (position, byte) in bytes.enumerated() {
      if byte >= 0x80 { return nil }
      if byte == UInt8(ascii: ".") { lastDot = position }
    }
    guard lastDot >= 0 else { return .some(nil) }
    return (
      String(decoding: UnsafeBufferPointer(rebasing: bytes[..<lastDot]), as: UTF8.self),
      String(decoding: UnsafeBufferPointer(rebasing: bytes[(lastDot + 1)...]), as: UTF8.self)
    )
  }
  switch ascii {
  case .some(.some(let parts)): return parts
  case .some(.none): return ("", name)
  case .none:
    guard let dot = name.lastIndex(of: ".") else { return ("", name) }
    return (String(name[..<dot]), String(name[name.index(after: dot)...]))
  }
}

/// The role a PyTorch tensor's own name gives it.
func role(forLocalName local: String) -> TensorRole {
  var bytes = local
  if let role = bytes.withUTF8({ asciiRole(forLocalName: $0) }) { return role }
  switch local {
  case "running_mean": return .runningMean
  case "running_var": return .runningVar
  case "num_batches_tracked": return .numBatchesTracked
  default: break
  }
  if knownBufferNames.contains(local) { return .buffer }
  if local == "weight" || local.hasPrefix("weight_") || local.hasSuffix("_weight") {
    return .weight
  }
  if local == "bias" || local.hasPrefix("bias_") || local.hasSuffix("_bias") { return .bias }
  return .other
}

/// `role(forLocalName:)` by bytes for an ASCII name (where comparing bytes is comparing
/// characters); nil for any other name.
private func asciiRole(forLocalName local: UnsafeBufferPointer<UInt8>) -> TensorRole? {
  for byte in local where byte >= 0x80 { return nil }
  func equals(_ text: StaticString) -> Bool {
    text.utf8CodeUnitCount == local.count
      && text.withUTF8Buffer { $0.elementsEqual(local) }
  }
  func starts(_ text: StaticString) -> Bool {
    text.utf8CodeUnitCount <= local.count
      && text.withUTF8Buffer { $0.elementsEqual(local.prefix($0.count)) }
  }
  func ends(_ text: StaticString) -> Bool {
    text.utf8CodeUnitCount <= local.count
      && text.withUTF8Buffer { $0.elementsEqual(local.suffix($0.count)) }
  }
  if equals("running_mean") { return .runningMean }
  if equals("running_var") { return .runningVar }
  if equals("num_batches_tracked") { return .numBatchesTracked }
  // `knownBufferNames`, spelled out.
  if equals("position_ids") || equals("token_type_ids") || equals("inv_freq")
    || equals("relative_position_index") || equals("masked_bias") || equals("_float_tensor")
    || equals("attention_mask") || equals("causal_mask")
  {
    return .buffer
  }
  if equals("weight") || starts("weight_") || ends("_weight") { return .weight }
  if equals("bias") || starts("bias_") || ends("_bias") { return .bias }
  return .other
}

/// Whether a tensor sits in an optimizer section of the file.
func isOptimizerSection(_ section: String) -> Bool {
  !section.isEmpty && containsASCII(section, "optimizer")
}

/// Whether `text` contains `needle` (lower-case ASCII), ignoring ASCII case: a plain byte
/// search, much cheaper than the general `String.contains`.
func containsASCII(_ text: String, _ needle: String) -> Bool {
  let n = Array(needle.utf8)
  guard !n.isEmpty else { return true }
  let bytes = Array(text.utf8)
  guard bytes.count >= n.count else { return false }
  for start in 0...(bytes.count - n.count) {
    var i = 0
    while i < n.count {
      var b = bytes[start + i]
      if b >= 0x41 && b <= 0x5A { b += 0x20 }
      if b != n[i] { break }
      i += 1
    }
    if i == n.count { return true }
  }
  return false
}

/// Places a PyTorch tensor by its dotted name: the module path is the layer, the last component
/// the name inside it; optimizer state goes to its section.
func placePyTorch(name: String, section: String) -> Placement {
  if isOptimizerSection(section) {
    return Placement(layer: section, localName: name, role: .optimizerState)
  }
  let (module, local) = splitModule(name)
  return Placement(layer: module, localName: local, role: role(forLocalName: local))
}

// MARK: - ONNX operands

/// The role and operand name an ONNX operator gives the initializer in input `slot`, when the
/// slot holds a weight-like operand; nil otherwise.
func parameterOperand(op: String, slot: Int) -> (TensorRole, String)? {
  // By operator first, then by slot: one string comparison per operator name, not per pair.
  switch op {
  case "Conv", "ConvTranspose":
    return slot == 1 ? (.weight, "weight") : slot == 2 ? (.bias, "bias") : nil
  case "Gemm":
    return slot == 0 || slot == 1 ? (.weight, "weight") : slot == 2 ? (.bias, "bias") : nil
  case "MatMul": return slot == 0 || slot == 1 ? (.weight, "weight") : nil
  case "Gather": return slot == 0 ? (.weight, "weight") : nil
  case "PRelu": return slot == 1 ? (.weight, "weight") : nil
  case "Add": return slot == 0 || slot == 1 ? (.bias, "bias") : nil
  case "BatchNormalization":
    switch slot {
    case 1: return (.weight, "weight")
    case 2: return (.bias, "bias")
    case 3: return (.runningMean, "running_mean")
    case 4: return (.runningVar, "running_var")
    default: return nil
    }
  case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
    return slot == 1 ? (.weight, "weight") : slot == 2 ? (.bias, "bias") : nil
  case "RMSNormalization", "SimplifiedLayerNormalization":
    return slot == 1 ? (.weight, "weight") : nil
  case "LSTM", "GRU", "RNN":
    switch slot {
    case 1: return (.weight, "W")
    case 2: return (.weight, "R")
    case 3: return (.bias, "B")
    default: return nil
    }
  default: return nil
  }
}

/// Operands that are shapes, axes, indices, sizes or similar: always constants.
func isShapeOperand(op: String, slot: Int) -> Bool {
  switch op {
  case "Reshape", "Expand", "Tile", "Squeeze", "Unsqueeze", "Split", "TopK", "CumSum", "Trilu",
    "OneHot", "Upsample", "Gather", "GatherElements", "GatherND", "ScatterND", "ScatterElements",
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSumExp", "ReduceSumSquare":
    return slot >= 1
  case "Slice", "Pad", "Resize", "Clip", "NonMaxSuppression": return slot >= 1
  case "ConstantOfShape", "Range": return true
  case "LSTM", "GRU", "RNN": return slot >= 4
  default: return false
  }
}

/// `/layer1/layer1.0/conv1/Conv` -> `layer1.0.conv1`: the module path a TorchScript-based
/// exporter encodes in node names; nil when the node name does not have that form.
func modulePath(ofNode node: String) -> String? {
  guard node.hasPrefix("/") else { return nil }
  var parts = node.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
  guard parts.count >= 2 else { return nil }
  parts.removeLast()
  var path = ""
  for part in parts {
    if path.isEmpty || part.hasPrefix(path + ".") {
      path = part
    } else {
      path += "." + part
    }
  }
  return path.isEmpty ? nil : path
}

/// Whether an initializer kept the dotted name of the PyTorch parameter it came from.
func hasModuleName(_ name: String) -> Bool {
  // A byte scan for ASCII names; others take the Character search (a combining mark after
  // `.` makes another character).
  var text = name
  let ascii: Bool? = text.withUTF8 { bytes in
    var dot = false
    var separator = false
    for byte in bytes {
      switch byte {
      case UInt8(ascii: "/"), UInt8(ascii: ":"): separator = true
      case UInt8(ascii: "."): dot = true
      case 0x80...: return nil
      default: break
      }
    }
    return dot && !separator
  }
  if let ascii { return ascii }
  return !name.hasPrefix("onnx::") && name.contains(".") && !name.contains("/")
    && !name.contains(":")
}

/// Places ONNX initializers: the consuming node decides the role, the exporter's names (or the
/// node's module path, or the node's name) the layer.
struct ONNXPlacer {
  /// What a tensor's name says by itself, read as PyTorch's: its name inside its module and
  /// the role that name gives it.
  struct NameReading {
    var localName: String
    var role: TensorRole
  }

  /// Layer chosen for each node that holds a weight, so that its other operands follow it.
  private var layerOfNode: [String: String] = [:]
  /// Node that first claimed a layer name with a weight.
  private var weightNodeOfLayer: [String: String] = [:]
  /// For each tensor placed so far, in order: its name's PyTorch reading, when the name is a
  /// module path and the tensor is not optimizer state (the same as `placePyTorch` gives, whose
  /// layer is then the tensor's layer here too).
  private(set) var nameReadings: [NameReading?] = []
  /// What a tensor's own fields decide of its placement.
  struct Decision {
    var placement: Placement
    var reading: NameReading?
    /// Whether the layer is still to be named from the deciding use's node, which depends on
    /// the tensors placed before (``place(_:at:)`` does it, in order).
    var layerFromNode: Bool
  }

  /// The last operand looked up, and what it is: neighbouring tensors often fill the same slot
  /// of the same operator.
  struct OperandCache {
    fileprivate var last: (op: String, slot: Int, operand: (TensorRole, String)?)?

    /// `parameterOperand(op:slot:)`, remembered for the last pair asked.
    mutating func operand(op: String, slot: Int) -> (TensorRole, String)? {
      if let last, last.slot == slot, last.op == op { return last.operand }
      let operand = parameterOperand(op: op, slot: slot)
      last = (op, slot, operand)
      return operand
    }
  }

  private var cache = OperandCache()

  /// Places `tensors[i]`, whose fields are read in place: passing a TensorInfo would copy it.
  mutating func place(_ tensors: [TensorInfo], at i: Int) -> Placement {
    if nameReadings.isEmpty { nameReadings.reserveCapacity(tensors.count) }  // Tensors read.
    return place(tensors, at: i, Self.decide(tensors, at: i, cache: &cache))
  }

  /// Finishes `decision`, made for `tensors[i]` by ``decide(_:at:cache:)``, in order: the
  /// tensors before it have been placed.
  mutating func place(_ tensors: [TensorInfo], at i: Int, _ decision: Decision) -> Placement {
    nameReadings.append(decision.reading)
    var placement = decision.placement
    if decision.layerFromNode, let u = placement.useIndex {
      placement.layer = layerName(for: tensors[i].uses[u], claimsWeight: placement.role == .weight)
    }
    return placement
  }

  /// What `tensors[i]`'s name, type and uses decide of its placement, whatever the other
  /// tensors are: all of it, unless its layer comes from a node.
  static func decide(_ tensors: [TensorInfo], at i: Int, cache: inout OperandCache) -> Decision {
    let name = tensors[i].name
    let section = tensors[i].section
    if isOptimizerSection(section) {
      return Decision(
        placement: Placement(layer: section, localName: name, role: .optimizerState),
        reading: nil, layerFromNode: false)
    }
    let named = hasModuleName(name)
    let (module, local) = splitModule(name)
    let nameRole = named ? role(forLocalName: local) : .other
    let reading = named ? NameReading(localName: local, role: nameRole) : nil
    let dtype = tensors[i].dtype
    let integer = !dtype.isFloatingPoint && !dtype.isQuantized

    // The deciding use: the first that fills a weight-like operand, else the first. Read in
    // place: a use holds five strings and a dictionary.
    let uses = tensors[i].uses
    var paramUse: Int?
    var operand: (TensorRole, String)?
    for k in uses.indices {
      if let found = cache.operand(op: uses[k].opType, slot: uses[k].inputIndex) {
        paramUse = k
        operand = found
        break
      }
    }
    let useIndex = paramUse ?? (uses.isEmpty ? nil : 0)

    var role: TensorRole
    var localName = named ? local : name
    if let (r, operand) = operand, !(integer && r != .weight) {
      role = r
      localName = operand
    } else if nameRole != .other && !integer {
      role = nameRole
    } else if let u = useIndex, isShapeOperand(op: uses[u].opType, slot: uses[u].inputIndex) {
      role = .constant
    } else if integer || tensors[i].elements <= 1 {
      // Integer operands of anything, and scalar operands of arithmetic, are constants.
      role = .constant
    } else {
      role = .other
    }

    let layer: String
    let layerFromNode = !named && useIndex != nil
    if named {
      layer = module
    } else if layerFromNode {
      layer = ""
    } else {
      layer = section.isEmpty ? name : section
    }
    return Decision(
      placement: Placement(layer: layer, localName: localName, role: role, useIndex: useIndex),
      reading: reading, layerFromNode: layerFromNode)
  }

  private mutating func layerName(for use: OperatorUse, claimsWeight: Bool) -> String {
    let node = use.graph.isEmpty ? use.node : use.graph + "/" + use.node
    if let known = layerOfNode[node] { return known }
    var layer =
      modulePath(ofNode: use.node).map { use.graph.isEmpty ? $0 : use.graph + "/" + $0 } ?? node
    if claimsWeight {
      if let owner = weightNodeOfLayer[layer], owner != node {
        // Two weight-holding nodes in one module scope: keep them apart.
        layer = node
      } else {
        weightNodeOfLayer[layer] = node
      }
      layerOfNode[node] = layer
    }
    return layer
  }
}
