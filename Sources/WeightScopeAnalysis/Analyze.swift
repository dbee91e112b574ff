import WeightScopeCore
import WeightScopeModel

/// Groups a file's tensors into layers, decides each tensor's role and trainability, checks
/// every layer of known kind against its formula, and counts.
///
/// Never fails: what cannot be known is assumed, and the assumption is written down in a
/// layer note or a finding.
public func analyze(_ file: WeightFile) -> Analysis {
  let onnx = file.format == .onnx || file.tensors.contains { !$0.uses.isEmpty }

  // 1. Where each tensor belongs.
  var placer = ONNXPlacer()
  let prefix = onnx ? nil : NamePrefix.detect(file.tensors)
  // By index, the tensors' fields read in place: mapping the tensors would copy each one.
  var placements: [Placement] = []
  if onnx {
    // What each tensor's own fields decide, a large file's halves at once; then, in order,
    // the layers named after nodes, which depend on the tensors before.
    let tensors = file.tensors
    let decisions = ForkJoin.map(count: tensors.count, split: true, state: ONNXPlacer.OperandCache()) {
      i, cache in ONNXPlacer.decide(tensors, at: i, cache: &cache)
    }
    placements.reserveCapacity(tensors.count)  // One per tensor already read.
    for i in decisions.indices { placements.append(placer.place(tensors, at: i, decisions[i])) }
  } else {
    // Each PyTorch name is placed on its own: a large file's halves are placed at once.
    let tensors = file.tensors
    placements = ForkJoin.map(count: tensors.count, split: true) { i in
      placePyTorch(name: tensors[i].name, section: tensors[i].section, prefix: prefix)
    }
  }

  // 2. Layers in file order of their first tensor; each tensor's layer by position, so that
  // a layer name is hashed once per tensor.
  var order: [String] = []
  var layerIndex: [String: Int] = [:]
  var layerOf: [Int] = []
  var sizes: [Int] = []
  layerOf.reserveCapacity(placements.count)  // One per tensor already read, not a file count.
  for (i, p) in placements.enumerated() {
    let index: Int
    // A layer's tensors are usually next to each other: compare with the previous one first.
    if i > 0, p.layer == placements[i - 1].layer {
      index = layerOf[i - 1]
    } else if let known = layerIndex[p.layer] {
      index = known
    } else {
      index = order.count
      layerIndex[p.layer] = index
      order.append(p.layer)
      sizes.append(0)
    }
    sizes[index] += 1
    layerOf.append(index)
  }
  // Each layer's members in one allocation of its size, rather than grown by appending.
  var membersOf = sizes.map { size in
    var members: [Int] = []
    members.reserveCapacity(size)  // Counted from the tensors just placed.
    return members
  }
  for (i, index) in layerOf.enumerated() { membersOf[index].append(i) }

  // 3. Each layer's kind and formula; the file's own modules, when it has them, give the class
  // and the real hyperparameters.
  let modules = file.modules.isEmpty ? [:] : modulesByLayer(file, prefix: prefix)
  var inferences: [Inference] = []
  if !onnx {
    // Each PyTorch layer is decided from its own tensors: a large file's halves at once.
    let (order, membersOf, placements) = (order, membersOf, placements)
    inferences = ForkJoin.map(count: order.count, split: true) { l in
      sectionInference(membersOf[l], placements)
        ?? inferPyTorch(
          layer: order[l], shapes: shapes(of: membersOf[l], placements, file),
          module: modules[order[l]])
    }
  } else {
    inferences.reserveCapacity(order.count)  // One per layer already found.
    for (l, name) in order.enumerated() {
      let indices = membersOf[l]
      if let inference = sectionInference(indices, placements) {
        inferences.append(inference)
        continue
      }
      // The operator of the use that placed tensor `i`, read in place.
      func opType(_ i: Int) -> String? {
        placements[i].useIndex.map { file.tensors[i].uses[$0].opType }
      }
      // An Add operand is a bias only beside a MatMul or Gemm weight.
      let linear = indices.contains {
        guard placements[$0].role == .weight, let op = opType($0) else { return false }
        return op == "MatMul" || op == "Gemm"
      }
      if !linear {
        for i in indices where placements[i].role == .bias && opType(i) == "Add" {
          placements[i].role = .other
          placements[i].localName = file.tensors[i].name
        }
      }
      var inference = inferONNX(members: indices, tensors: file.tensors, placements: placements)
      if inference.kind == .unknown {
        // Initializers that keep PyTorch's names but reach their operator through Slice,
        // Concat or Transpose (an exported LSTM, an attention's MatMul) read as PyTorch's;
        // graph-made tensors beside them (an LSTM's zero initial state) are constants.
        let readings = placer.nameReadings
        // `inferPyTorch` tells a kind only from a weight (`weight`, `weight_ih_l0`,
        // `in_proj_weight`, ...) or running statistics: without such a name it is not asked.
        let telling = indices.contains {
          switch readings[$0]?.role {
          case .weight, .runningMean, .runningVar: true
          default: false
          }
        }
        var byName = Inference(kind: .unknown)
        if telling {
          var named: [String: [Int]] = [:]
          named.reserveCapacity(indices.count)  // One per member already read.
          for i in indices {
            if let reading = readings[i] { named[reading.localName] = file.tensors[i].shape }
          }
          byName = inferPyTorch(layer: name, shapes: named)
        }
        if byName.kind != .unknown {
          inference = byName
          for i in indices {
            if let reading = readings[i] {
              placements[i].role = reading.role
              placements[i].localName = reading.localName
            } else {
              placements[i].role = .constant
            }
          }
        } else if !indices.contains(where: { placements[$0].useIndex != nil }) {
          inference = inferPyTorch(layer: name, shapes: shapes(of: indices, placements, file))
        }
      }
      inferences.append(inference)
    }
  }

  // 4. Trainability, by the first rule that applies.
  let quantized = onnx ? [] : quantizedModules(file.tensors)
  // Tensors and placements are read in place; every AnalyzedTensor shares the file's array.
  let table = TensorTable(file.tensors)
  let (layerOfTensor, known, placed) = (layerOf, inferences.map(\.kind.hasFormula), placements)
  let tensors = ForkJoin.map(count: file.tensors.count, split: true) { i in
    let role = placed[i].role
    let inQuantized =
      !quantized.isEmpty && quantized.contains { file.tensors[i].name.hasPrefix($0) }
    // The few fields the rules read, read in place: passing the tensor would copy it.
    let (trainable, rule) = decideTrainability(
      dtype: file.tensors[i].dtype, declaredTrainable: file.tensors[i].declaredTrainable,
      declaredParameter: file.tensors[i].declaredParameter, role: role,
      knownLayer: known[layerOfTensor[i]], inQuantizedModule: inQuantized)
    return AnalyzedTensor(
      table, i, layer: placed[i].layer, localName: placed[i].localName, role: role,
      trainable: trainable, rule: rule)
  }

  // 5. Layers: counts, formula checks, notes.
  var findings = file.findings
  if let prefix { findings.append(prefix.finding) }
  // Each layer is counted and checked on its own: a large file's halves at once.
  let (layerNames, members, kinds) = (order, membersOf, inferences)
  let counted = ForkJoin.map(count: layerNames.count, split: true) { l in
    layer(layerNames[l], members: members[l], kinds[l], tensors)
  }
  var layers: [Layer] = []
  layers.reserveCapacity(counted.count)  // One per layer already counted.
  for (layer, mismatch) in counted {
    layers.append(layer)
    if let mismatch { findings.append(mismatch) }
  }

  // 6. Totals and the analysis's own findings.
  let totals = computeTotals(tensors, findings: &findings)
  // Counted in place rather than filtered into copies of the tensors.
  var assumedCount = 0
  var assumedElements = 0
  var assumedNames: [String] = []
  var assumedSaturated = false
  var sharedCount = 0
  for i in tensors.indices {
    if tensors[i].info.sharedWith != nil { sharedCount += 1 }
    guard tensors[i].rule == .unknownLayer else { continue }
    assumedCount += 1
    assumedElements = saturatingAdd(
      assumedElements, tensors[i].countedElements, &assumedSaturated)
    if assumedNames.count < 5 { assumedNames.append(tensors[i].info.name) }
  }
  if assumedCount > 0 {
    let names = assumedNames.joined(separator: ", ")
    let more = assumedCount > 5 ? ", ..." : ""
    findings.append(
      Finding(
        .info, "analysis.assumed-trainable",
        "\(assumedCount) tensor\(assumedCount == 1 ? "" : "s") (\(assumedElements) elements) in layers of unknown "
          + "kind counted as trainable: \(names)\(more)"))
  }
  if sharedCount > 0 {
    findings.append(
      Finding(
        .info, "analysis.shared-storage",
        "\(sharedCount) tensor\(sharedCount == 1 ? " shares" : "s share") storage with earlier ones (tied weights): "
          + "counted once"))
  }
  return Analysis(file: file, tensors: tensors, layers: layers, totals: totals, findings: findings)
}

/// A layer's counts and formula check, and the finding when the check fails.
private func layer(
  _ name: String, members indices: [Int], _ inference: Inference, _ tensors: [AnalyzedTensor]
) -> (Layer, Finding?) {
  var layer = Layer(
    name: name, kind: inference.kind, tensorIndices: indices, parameters: 0, trainable: 0,
    nonTrainable: 0,
    constants: 0, optimizerState: 0, formula: nil,
    notes: inference.notes + (inference.formula?.notes ?? []))
  var saturated = false
  for i in indices {
    let n = tensors[i].countedElements
    switch tensors[i].role {
    case .constant: layer.constants = saturatingAdd(layer.constants, n, &saturated)
    case .optimizerState:
      layer.optimizerState = saturatingAdd(layer.optimizerState, n, &saturated)
    case .otherSection:
      break
    default:
      if tensors[i].trainable {
        layer.trainable = saturatingAdd(layer.trainable, n, &saturated)
      } else {
        layer.nonTrainable = saturatingAdd(layer.nonTrainable, n, &saturated)
      }
    }
    if let earlier = tensors[i].info.sharedWith {
      layer.notes.append(
        "\(tensors[i].info.name) shares storage with \(earlier): counted once, there")
    }
  }
  layer.parameters = saturatingAdd(layer.trainable, layer.nonTrainable, &saturated)
  guard let formula = inference.formula else { return (layer, nil) }
  let check = checkFormula(formula, layerTensors: indices.map { tensors[$0] })
  layer.formula = check
  guard !check.matches else { return (layer, nil) }
  return (
    layer,
    Finding(
      .warning, "formula.mismatch",
      "layer \(display(name)) (\(layer.kind.rawValue)): \(check.problems.joined(separator: "; ")); "
        + "formula \(check.text) = \(check.expected), tensors hold \(check.actual)")
  )
}

/// The kind of a layer that holds only optimizer state or only a secondary section's
/// tensors; nil for any other layer.
private func sectionInference(_ indices: [Int], _ placements: [Placement]) -> Inference? {
  if indices.allSatisfy({ placements[$0].role == .optimizerState }) {
    return Inference(kind: .optimizer)
  }
  if indices.allSatisfy({ placements[$0].role == .otherSection }) {
    return Inference(
      kind: .section, notes: ["a secondary section of the checkpoint: listed, not counted"])
  }
  return nil
}

/// `(root)` for tensors that belong to no module, else the name itself.
func display(_ layer: String) -> String { layer.isEmpty ? "(root)" : layer }

private func shapes(of indices: [Int], _ placements: [Placement], _ file: WeightFile) -> [String:
  [Int]]
{
  var shapes: [String: [Int]] = [:]
  shapes.reserveCapacity(indices.count)  // One per tensor already read.
  for i in indices where placements[i].role != .constant && placements[i].role != .optimizerState {
    shapes[placements[i].localName] = file.tensors[i].shape
  }
  return shapes
}

func saturatingAdd(_ a: Int, _ b: Int, _ saturated: inout Bool) -> Int {
  let (s, o) = a.addingReportingOverflow(b)
  if o { saturated = true }
  return o ? Int.max : s
}

/// The rules of ``TrainabilityRule``, in order.
func decideTrainability(
  dtype: DType, declaredTrainable: Bool?, declaredParameter: Bool?, role: TensorRole,
  knownLayer: Bool, inQuantizedModule: Bool = false
) -> (Bool, TrainabilityRule) {
  switch role {
  case .optimizerState: return (false, .optimizer)
  case .otherSection: return (false, .otherSection)
  case .constant: return (false, .constant)
  default: break
  }
  // A quantized module registers no parameters, whatever its packed bias was pickled as.
  if inQuantizedModule || dtype.isQuantized { return (false, .quantized) }
  if let declared = declaredTrainable {
    return (declared && declaredParameter != false, .declared)
  }
  if declaredParameter == false { return (false, .declared) }
  switch role {
  case .runningMean, .runningVar: return (false, .runningStat)
  case .numBatchesTracked: return (false, .counter)
  default: break
  }
  if !dtype.isFloatingPoint && !dtype.isQuantized { return (false, .integerDType) }
  if role == .buffer { return (false, .buffer) }
  if knownLayer && (role == .weight || role == .bias) { return (true, .knownLayer) }
  return (true, .unknownLayer)
}

/// Compares a formula's predicted tensors with the layer's tensors, by name and shape.
func checkFormula(_ formula: Formula, layerTensors: [AnalyzedTensor]) -> FormulaCheck {
  let present = layerTensors.filter(\.isParameter)
  var problems: [String] = []
  var actual = 0
  var saturated = false
  // A layer usually holds a handful of tensors: scanning them beats hashing their names.
  let small = present.count <= 16
  var byName: [String: [Int]] = [:]
  for (i, t) in present.enumerated() {
    actual = saturatingAdd(actual, t.info.elements, &saturated)
    let seen =
      small
      ? present[..<i].contains { $0.localName == t.localName } : byName[t.localName] != nil
    if seen { problems.append("two tensors named \(t.localName)") }
    if !small { byName[t.localName] = t.info.shape }
  }
  let expected = formula.tensors
  for e in expected {
    let found =
      small ? present.last { $0.localName == e.name }?.info.shape : byName[e.name]
    if let shape = found {
      if shape != e.shape { problems.append("\(e.name) has shape \(shape), expected \(e.shape)") }
    } else {
      problems.append("missing \(e.name) \(e.shape)")
    }
  }
  let expectedNames: Set<String> = small ? [] : Set(expected.map(\.name))
  for t in present {
    let known =
      small ? expected.contains { $0.name == t.localName } : expectedNames.contains(t.localName)
    if !known { problems.append("extra tensor \(t.info.name) \(t.info.shape)") }
  }
  let total = formula.total
  if problems.isEmpty && actual != total {
    problems.append("counts differ")
  }
  return FormulaCheck(
    formula: formula, text: formula.text, expected: total, actual: actual,
    matches: problems.isEmpty,
    problems: problems)
}

func computeTotals(_ tensors: [AnalyzedTensor], findings: inout [Finding]) -> Totals {
  var totals = Totals()
  var saturated = false
  // Fields are read in place (no copy of each tensor); the few dtypes are found by a scan.
  for i in tensors.indices {
    let n = tensors[i].countedElements
    let counted = tensors[i].countedBytes
    let dtype = tensors[i].info.dtype
    totals.tensors += 1
    totals.elements = saturatingAdd(totals.elements, n, &saturated)
    totals.bytes = saturatingAdd(totals.bytes, counted, &saturated)
    let d: Int
    if let known = totals.byDType.firstIndex(where: { $0.dtype == dtype }) {
      d = known
    } else {
      d = totals.byDType.count
      totals.byDType.append(Totals.DTypeCount(dtype: dtype, elements: 0, bytes: 0))
    }
    totals.byDType[d].elements = saturatingAdd(totals.byDType[d].elements, n, &saturated)
    totals.byDType[d].bytes = saturatingAdd(totals.byDType[d].bytes, counted, &saturated)
    let role = tensors[i].role
    switch role {
    case .constant:
      totals.constants = saturatingAdd(totals.constants, n, &saturated)
      continue
    case .optimizerState:
      totals.optimizerState = saturatingAdd(totals.optimizerState, n, &saturated)
      continue
    case .otherSection:
      totals.otherSections = saturatingAdd(totals.otherSections, n, &saturated)
      continue
    default: break
    }
    if tensors[i].trainable {
      totals.trainable = saturatingAdd(totals.trainable, n, &saturated)
      continue
    }
    totals.nonTrainable = saturatingAdd(totals.nonTrainable, n, &saturated)
    var b = totals.nonTrainableBreakdown
    switch role {
    case .runningMean, .runningVar: b.runningStats = saturatingAdd(b.runningStats, n, &saturated)
    case .numBatchesTracked: b.numBatchesTracked = saturatingAdd(b.numBatchesTracked, n, &saturated)
    default:
      if tensors[i].rule == .declared && tensors[i].info.declaredParameter != false {
        b.frozen = saturatingAdd(b.frozen, n, &saturated)
      } else {
        b.buffers = saturatingAdd(b.buffers, n, &saturated)
      }
    }
    totals.nonTrainableBreakdown = b
  }
  totals.parameters = saturatingAdd(totals.trainable, totals.nonTrainable, &saturated)
  if saturated {
    findings.append(
      Finding(
        .warning, "analysis.overflow", "a total does not fit in 64 bits; shown as the largest value"
      ))
  }
  return totals
}

/// Name prefixes (`fc1.`) of quantized modules: those holding a quantized tensor or torch's
/// `_packed_params`. Such modules register no parameters: everything in them is state.
func quantizedModules(_ tensors: [TensorInfo]) -> [String] {
  // Each tensor's module prefix, when it says it is quantized: a large file's halves at once.
  let prefixes = ForkJoin.map(count: tensors.count, split: true) { i -> String? in
    // Most tensors are neither: a byte search rules them out before any splitting.
    let quantized = tensors[i].dtype.isQuantized
    guard quantized || containsBytes(tensors[i].name, packedParams) else { return nil }
    let parts = tensors[i].name.split(separator: ".", omittingEmptySubsequences: false)
    let root: ArraySlice<Substring>
    if let packed = parts.firstIndex(of: "_packed_params") {
      root = parts[..<packed]
    } else if quantized {
      root = parts.dropLast()
    } else {
      return nil
    }
    return root.isEmpty ? "" : root.joined(separator: ".") + "."
  }
  var roots: [String] = []
  for case let prefix? in prefixes where !roots.contains(prefix) { roots.append(prefix) }
  return roots
}

private let packedParams = Array("_packed_params".utf8)

/// Whether `text`'s UTF-8 bytes contain `needle`.
private func containsBytes(_ text: String, _ needle: [UInt8]) -> Bool {
  var text = text
  return text.withUTF8 { bytes in
    guard bytes.count >= needle.count, let first = needle.first else { return needle.isEmpty }
    var i = 0
    while i + needle.count <= bytes.count {
      if bytes[i] == first {
        var j = 1
        while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
        if j == needle.count { return true }
      }
      i += 1
    }
    return false
  }
}
