import WeightScopeAnalysis
import WeightScopeModel
import WeightScopeSpec

/// One side of a verification: layers and the tensors each holds, by full name.
public struct TensorLayout: Sendable, Equatable {
  public struct Slot: Sendable, Equatable {
    /// Full name as `state_dict()` keys it: `21.weight`.
    public var name: String
    /// Name inside the layer: `weight`.
    public var localName: String
    public var shape: [Int]
    public var role: TensorRole
  }

  public struct Group: Sendable, Equatable {
    public var name: String
    /// `Conv2d` for a spec, the analysis's kind (`conv2d`) for a file.
    public var type: String
    public var slots: [Slot]
  }

  /// What the layout was read from: a spec path or a weight file path.
  public var source: String
  public var format: FileFormat?
  /// Groups with at least one tensor, in order.
  public var groups: [Group]
  /// Layers without parameters (a spec's ReLU, MaxPool2d, ...), by count.
  public var parameterless: Int

  public var slots: [Slot] { groups.flatMap(\.slots) }

  /// The tensors a spec's formulas imply, in `state_dict()` order.
  public init(spec: Spec) throws(SpecError) {
    var groups: [Group] = []
    var parameterless = 0
    for module in spec.allModules where module.type != "Sequential" {
      let formula = try SpecFormula.formula(for: module, file: spec.file)
      let slots = formula.tensors.map {
        Slot(
          name: module.path.isEmpty ? $0.name : module.path + "." + $0.name, localName: $0.name,
          shape: $0.shape, role: $0.role)
      }
      if slots.isEmpty {
        parameterless += 1
      } else {
        groups.append(Group(name: module.path, type: module.type, slots: slots))
      }
    }
    self.init(source: spec.file, format: nil, groups: groups, parameterless: parameterless)
  }

  /// The parameters and buffers of an analyzed file (graph constants and optimizer state left
  /// out), grouped by layer.
  public init(analysis: Analysis) {
    var groups: [Group] = []
    for layer in analysis.layers {
      let slots = layer.tensorIndices.compactMap { i -> Slot? in
        guard i < analysis.tensors.count, analysis.tensors[i].isParameter else { return nil }
        let t = analysis.tensors[i]
        return Slot(name: t.info.name, localName: t.localName, shape: t.info.shape, role: t.role)
      }
      if !slots.isEmpty { groups.append(Group(name: layer.name, type: layer.kind.rawValue, slots: slots)) }
    }
    self.init(
      source: analysis.file.path, format: analysis.file.format, groups: groups, parameterless: 0)
  }

  public init(source: String, format: FileFormat?, groups: [Group], parameterless: Int) {
    self.source = source
    self.format = format
    self.groups = groups
    self.parameterless = parameterless
  }

  /// The same layout with `prefix` removed from every name that starts with it.
  func stripping(_ prefix: String) -> TensorLayout {
    func strip(_ s: String) -> String { s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s }
    var copy = self
    for g in copy.groups.indices {
      copy.groups[g].name = strip(copy.groups[g].name)
      for s in copy.groups[g].slots.indices {
        copy.groups[g].slots[s].name = strip(copy.groups[g].slots[s].name)
      }
    }
    return copy
  }
}

/// How one expected tensor, or one tensor nobody expected, came out.
public struct TensorVerdict: Sendable, Equatable {
  public enum Status: String, Sendable, Equatable {
    case match
    case shapeMismatch = "shape mismatch"
    case missing
    case unexpected
    /// Absent, and the file's format never stores it (ONNX drops `num_batches_tracked`).
    case notStored = "not stored"
  }

  public var status: Status
  /// The name in the spec (for `unexpected`: the file's name, prefix removed).
  public var name: String
  public var expected: [Int]?
  public var actual: [Int]?
  /// The file's own name when it differs (a prefix, or a match by order).
  public var fileName: String?

  public var isFailure: Bool { status != .match && status != .notStored }
}

/// One layer's verdict: the spec's layer with its tensors, or a file layer nobody expected.
public struct LayerVerdict: Sendable, Equatable {
  public var name: String
  public var type: String
  public var tensors: [TensorVerdict]

  /// The worst status of its tensors.
  public var status: TensorVerdict.Status {
    for s in [TensorVerdict.Status.shapeMismatch, .missing, .unexpected] where
      tensors.contains(where: { $0.status == s })
    {
      return s
    }
    return .match
  }
  public var matches: Bool { !tensors.contains(where: \.isFailure) }
}

/// A checkpoint compared with the architecture it should hold, tensor by tensor.
public struct Verification: Sendable, Equatable {
  public enum Matching: String, Sendable, Equatable {
    /// By `state_dict()` name: the file kept the module names.
    case byName = "by name"
    /// Layer by layer in order: the file's names do not follow the spec's.
    case byOrder = "by order"
  }

  public var spec: TensorLayout
  public var file: TensorLayout
  public var matching: Matching
  /// Prefixes removed from the file's names (`module.`, `_orig_mod.`), outermost first.
  public var strippedFromFile: [String]
  /// Prefixes removed from the spec's names, when the spec is a checkpoint too.
  public var strippedFromSpec: [String]
  public var layers: [LayerVerdict]

  /// The prefixes wrappers add: DataParallel/DDP, torch.compile, Lightning and others.
  public static let knownPrefixes = ["module.", "_orig_mod.", "model."]

  public var matches: Bool { layers.allSatisfy(\.matches) }
  public var tensors: [TensorVerdict] { layers.flatMap(\.tensors) }

  /// Compares `file` with `spec`.
  public init(spec: TensorLayout, file: TensorLayout) {
    var specSide = spec
    var fileSide = file
    strippedFromSpec = Verification.commonPrefixes(specSide, other: fileSide)
    for p in strippedFromSpec { specSide = specSide.stripping(p) }
    strippedFromFile = Verification.commonPrefixes(fileSide, other: specSide)
    for p in strippedFromFile { fileSide = fileSide.stripping(p) }
    self.spec = specSide
    self.file = fileSide

    let expectedNames = Set(specSide.slots.map(\.name))
    let fileSlots = fileSide.slots
    let shared = fileSlots.filter { expectedNames.contains($0.name) }.count
    matching = shared * 2 >= max(1, min(fileSlots.count, expectedNames.count)) ? .byName : .byOrder
    let dropsCounters = fileSide.format == .onnx
    layers =
      matching == .byName
      ? Verification.byName(specSide, fileSide, dropsCounters: dropsCounters)
      : Verification.byOrder(specSide, fileSide, dropsCounters: dropsCounters)
  }

  /// Known prefixes that every name of `layout` has and no name of `other` has, in order.
  static func commonPrefixes(_ layout: TensorLayout, other: TensorLayout) -> [String] {
    var names = layout.slots.map(\.name)
    let otherNames = other.slots.map(\.name)
    var found: [String] = []
    var changed = true
    while changed && !names.isEmpty {
      changed = false
      for p in knownPrefixes
      where names.allSatisfy({ $0.hasPrefix(p) }) && !otherNames.contains(where: { $0.hasPrefix(p) }) {
        found.append(p)
        names = names.map { String($0.dropFirst(p.count)) }
        changed = true
        break
      }
    }
    return found
  }

  private static func missing(_ e: TensorLayout.Slot, dropsCounters: Bool) -> TensorVerdict {
    TensorVerdict(
      status: dropsCounters && e.role == .numBatchesTracked ? .notStored : .missing, name: e.name,
      expected: e.shape, actual: nil)
  }

  private static func compare(_ e: TensorLayout.Slot, _ f: TensorLayout.Slot) -> TensorVerdict {
    TensorVerdict(
      status: e.shape == f.shape ? .match : .shapeMismatch, name: e.name, expected: e.shape,
      actual: f.shape, fileName: f.name == e.name ? nil : f.name)
  }

  static func byName(_ spec: TensorLayout, _ file: TensorLayout, dropsCounters: Bool)
    -> [LayerVerdict]
  {
    var fileByName: [String: TensorLayout.Slot] = [:]
    for s in file.slots where fileByName[s.name] == nil { fileByName[s.name] = s }
    var used: Set<String> = []
    var layers: [LayerVerdict] = []
    for g in spec.groups {
      var verdicts: [TensorVerdict] = []
      for e in g.slots {
        if let f = fileByName[e.name] {
          used.insert(e.name)
          verdicts.append(compare(e, f))
        } else {
          verdicts.append(missing(e, dropsCounters: dropsCounters))
        }
      }
      layers.append(LayerVerdict(name: g.name, type: g.type, tensors: verdicts))
    }
    for g in file.groups {
      let extra = g.slots.filter { !used.contains($0.name) }
      if extra.isEmpty { continue }
      layers.append(
        LayerVerdict(
          name: g.name, type: g.type,
          tensors: extra.map {
            TensorVerdict(status: .unexpected, name: $0.name, expected: nil, actual: $0.shape)
          }))
    }
    return layers
  }

  static func byOrder(_ spec: TensorLayout, _ file: TensorLayout, dropsCounters: Bool)
    -> [LayerVerdict]
  {
    var layers: [LayerVerdict] = []
    for (i, g) in spec.groups.enumerated() {
      guard i < file.groups.count else {
        layers.append(
          LayerVerdict(
            name: g.name, type: g.type,
            tensors: g.slots.map { missing($0, dropsCounters: dropsCounters) }))
        continue
      }
      var remaining = file.groups[i].slots
      var verdicts: [TensorVerdict] = []
      for e in g.slots {
        let at = remaining.firstIndex { $0.localName == e.localName }
          ?? remaining.firstIndex { $0.role == e.role }
        if let at {
          verdicts.append(compare(e, remaining.remove(at: at)))
        } else {
          verdicts.append(missing(e, dropsCounters: dropsCounters))
        }
      }
      for f in remaining {
        verdicts.append(
          TensorVerdict(status: .unexpected, name: f.name, expected: nil, actual: f.shape))
      }
      layers.append(LayerVerdict(name: g.name, type: g.type, tensors: verdicts))
    }
    for g in file.groups.dropFirst(spec.groups.count) {
      layers.append(
        LayerVerdict(
          name: g.name, type: g.type,
          tensors: g.slots.map {
            TensorVerdict(status: .unexpected, name: $0.name, expected: nil, actual: $0.shape)
          }))
    }
    return layers
  }
}
