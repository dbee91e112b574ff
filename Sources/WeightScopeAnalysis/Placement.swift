import WeightScopeModel

/// Where a tensor belongs: its layer, its name inside the layer, and its role.
struct Placement: Equatable {
  var layer: String
  var localName: String
  var role: TensorRole
  /// The ONNX node whose operand decided the role, when one did.
  var use: OperatorUse?
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
  var lastDot = -1
  var position = 0
  for byte in name.utf8 {
    if byte >= 0x80 {
      guard let dot = name.lastIndex(of: ".") else { return ("", name) }
      return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
    if byte == UInt8(ascii: ".") { lastDot = position }
    position += 1
  }
  guard lastDot >= 0 else { return ("", name) }
  let utf8 = name.utf8
  let dot = utf8.index(utf8.startIndex, offsetBy: lastDot)
  return (String(name[..<dot]), String(name[utf8.index(after: dot)...]))
}

/// The role a PyTorch tensor's own name gives it.
func role(forLocalName local: String) -> TensorRole {
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

func placePyTorch(_ t: TensorInfo) -> Placement {
  if isOptimizerSection(t.section) {
    return Placement(layer: t.section, localName: t.name, role: .optimizerState)
  }
  let (module, local) = splitModule(t.name)
  return Placement(layer: module, localName: local, role: role(forLocalName: local))
}

// MARK: - ONNX operands

/// The role and operand name an ONNX operator gives the initializer in input `slot`, when the
/// slot holds a weight-like operand; nil otherwise.
func parameterOperand(op: String, slot: Int) -> (TensorRole, String)? {
  switch (op, slot) {
  case ("Conv", 1), ("ConvTranspose", 1), ("Gemm", 1), ("MatMul", 1), ("MatMul", 0), ("Gemm", 0),
    ("Gather", 0), ("PRelu", 1):
    return (.weight, "weight")
  case ("Conv", 2), ("ConvTranspose", 2), ("Gemm", 2), ("Add", 0), ("Add", 1):
    return (.bias, "bias")
  case ("BatchNormalization", 1), ("LayerNormalization", 1), ("InstanceNormalization", 1),
    ("GroupNormalization", 1), ("RMSNormalization", 1), ("SimplifiedLayerNormalization", 1):
    return (.weight, "weight")
  case ("BatchNormalization", 2), ("LayerNormalization", 2), ("InstanceNormalization", 2),
    ("GroupNormalization", 2):
    return (.bias, "bias")
  case ("BatchNormalization", 3): return (.runningMean, "running_mean")
  case ("BatchNormalization", 4): return (.runningVar, "running_var")
  case ("LSTM", 1), ("GRU", 1), ("RNN", 1): return (.weight, "W")
  case ("LSTM", 2), ("GRU", 2), ("RNN", 2): return (.weight, "R")
  case ("LSTM", 3), ("GRU", 3), ("RNN", 3): return (.bias, "B")
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
  var dot = false
  var separator = false
  for byte in name.utf8 {
    switch byte {
    case UInt8(ascii: "/"), UInt8(ascii: ":"): separator = true
    case UInt8(ascii: "."): dot = true
    case 0x80...:
      return !name.hasPrefix("onnx::") && name.contains(".") && !name.contains("/")
        && !name.contains(":")
    default: break
    }
  }
  return dot && !separator
}

/// Places ONNX initializers: the consuming node decides the role, the exporter's names (or the
/// node's module path, or the node's name) the layer.
struct ONNXPlacer {
  /// Layer chosen for each node that holds a weight, so that its other operands follow it.
  private var layerOfNode: [String: String] = [:]
  /// Node that first claimed a layer name with a weight.
  private var weightNodeOfLayer: [String: String] = [:]

  mutating func place(_ t: TensorInfo) -> Placement {
    if isOptimizerSection(t.section) {
      return Placement(layer: t.section, localName: t.name, role: .optimizerState)
    }
    let named = hasModuleName(t.name)
    let (module, local) = splitModule(t.name)
    let nameRole = named ? role(forLocalName: local) : .other
    let integer = !t.dtype.isFloatingPoint && !t.dtype.isQuantized

    // The deciding use: the first that fills a weight-like operand, else the first.
    let paramUse = t.uses.first { parameterOperand(op: $0.opType, slot: $0.inputIndex) != nil }
    let use = paramUse ?? t.uses.first

    var role: TensorRole
    var localName = named ? local : t.name
    if let use = paramUse,
      let (r, operand) = parameterOperand(op: use.opType, slot: use.inputIndex),
      !(integer && r != .weight)
    {
      role = r
      localName = operand
    } else if nameRole != .other && !integer {
      role = nameRole
    } else if let use, isShapeOperand(op: use.opType, slot: use.inputIndex) {
      role = .constant
    } else if integer || t.elements <= 1 {
      // Integer operands of anything, and scalar operands of arithmetic, are constants.
      role = .constant
    } else {
      role = .other
    }

    let layer: String
    if named {
      layer = module
    } else if let use {
      layer = layerName(for: use, claimsWeight: role == .weight)
    } else {
      layer = t.section.isEmpty ? t.name : t.section
    }
    return Placement(layer: layer, localName: localName, role: role, use: use)
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
