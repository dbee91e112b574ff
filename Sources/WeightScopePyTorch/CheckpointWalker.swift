import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// Walks the value a checkpoint's pickle built, collecting tensors by dotted name.
///
/// Each dict, list or object is walked once, so shared and cyclic references cost nothing;
/// a tensor reached under two names is listed under both (tied weights). Depth is bounded by
/// ``Limits/objectDepth``.
struct CheckpointWalker {
  struct FoundTensor: Equatable {
    var name: String
    var rebuild: TensorRebuild
    var section: String
    /// From a module's `_parameters` (true) or `_buffers` (false), for whole pickled modules.
    var declaredParameter: Bool?
  }

  let document: PickleDocument
  let limits: Limits
  var tensors: [FoundTensor] = []
  var facts: [FileFact] = []
  var findings: [Finding] = []
  /// Modules of a whole pickled model or a TorchScript archive, in pickle order.
  var modules: [ModuleInfo] = []
  /// The class global of each of ``modules``, for reading TorchScript class headers.
  var moduleClasses: [PickleGlobal] = []
  /// Per pickle node: whether the walk has entered it, and the tensor found on it (`tensors`
  /// index + 2), 1 when it is known not to be a tensor, 0 when not yet looked at.
  var walked: [Bool]
  var rebuildSlots: [Int32]
  private let rebuildCache = TensorRebuild.Cache()

  init(document: PickleDocument, limits: Limits) {
    self.document = document
    self.limits = limits
    walked = Array(repeating: false, count: document.nodes.count)
    rebuildSlots = Array(repeating: 0, count: document.nodes.count)
    // `torch.save` makes eight nodes per tensor (the rebuild call, its arguments, the
    // persistent id and its tuple, size, stride, hooks and their arguments); a pickle that
    // shares more of them regrows the list once or twice.
    tensors.reserveCapacity(document.nodes.count / 8)
  }

  mutating func walk(
    _ value: PickleValue, path: WalkPath, section: String, declared: Bool?, depth: Int
  ) throws(ReadError) {
    let name = path.name
    guard depth <= limits.objectDepth else {
      throw ReadError(
        .limitExceeded, at: document.offset(of: value),
        "\(name.isEmpty ? "the checkpoint" : name) nests deeper than \(limits.objectDepth) (Limits.objectDepth)"
      )
    }
    guard case .node(let id) = value else {
      if path.count == 1, let text = factText(value) { facts.append(FileFact(name, text)) }
      return
    }
    if let rebuild = try tensor(value, name: name) {
      guard tensors.count < limits.tensors else {
        throw ReadError(
          .limitExceeded, at: rebuild.offset, "more than \(limits.tensors) tensors (Limits.tensors)"
        )
      }
      tensors.append(
        FoundTensor(
          name: name.isEmpty ? "tensor" : name, rebuild: rebuild, section: section,
          declaredParameter: declared))
      // A second name for this node (tied weights) reads the rebuild from there.
      if rebuildSlots.indices.contains(id.index), rebuildSlots[id.index] == 0,
        tensors.count < Int(Int32.max) - 2
      {
        rebuildSlots[id.index] = Int32(tensors.count - 1 + 2)
      }
      return
    }
    if walked.indices.contains(id.index) {
      guard !walked[id.index] else { return }
      walked[id.index] = true
    }

    switch document[id] {
    case .dict(let entries):
      try walk(entries: entries, path: path, section: section, declared: declared, depth: depth)
    case .list(let items), .tuple(let items), .set(let items), .frozenset(let items):
      for (index, item) in items.enumerated() {
        try walk(
          item, path: path.appending(String(index)), section: section, declared: declared, depth: depth + 1
        )
      }
    case .object(let object):
      try walk(
        object: object, value: value, path: path, section: section, declared: declared, depth: depth
      )
    case .bytearray, .pending:
      break
    case .persistentID(let pid):
      findings.append(
        Finding(
          .info, "pickle.opaque-object",
          "\(name.isEmpty ? "the checkpoint" : name): persistent id \(document.describe(pid)) outside a tensor",
          offset: document.offset(of: value)))
    }
  }

  /// Walks `entries`, or those in `range`.
  mutating func walk(
    entries: PickleDictEntries, range: Range<Int>? = nil, path: WalkPath, section: String,
    declared: Bool?, depth: Int
  ) throws(ReadError) {
    for position in range ?? entries.indices {
      let entry = entries[position]
      let key = keyText(entry.key)
      var inner = section
      // Each top-level entry is a candidate section; `CheckpointSections` decides later.
      if path.count == 0, depth == 0 { inner = key }
      try walk(
        entry.value, path: path.appending(key), section: inner, declared: declared, depth: depth + 1)
    }
  }

  private mutating func walk(
    object: PickleObject, value: PickleValue, path: WalkPath, section: String, declared: Bool?,
    depth: Int
  ) throws(ReadError) {
    let callable = object.callableGlobal
    switch callable.map({ ($0.module, $0.name) }) {
    case let name? where Self.isDictCall(name):
      // Items come from SETITEMS; the BUILD state (`_metadata`) is not a tensor collection.
      try walk(
        entries: object.items, path: path, section: section, declared: declared, depth: depth)
    case ("builtins", "set")?, ("__builtin__", "set")?, ("builtins", "frozenset")?,
      ("__builtin__", "frozenset")?:
      if let first = document.sequence(object.arguments)?.first {
        try walk(first, path: path, section: section, declared: declared, depth: depth)
      }
    case ("torch", "Size")?, ("torch", "device")?, ("_codecs", "encode")?,
      ("builtins", "bytearray")?,
      ("__builtin__", "bytearray")?, ("builtins", "complex")?, ("__builtin__", "complex")?:
      if path.count == 1 { facts.append(FileFact(path.name, document.describe(value))) }
    case ("torch._utils", _)?, ("torch._tensor", _)?:
      // A rebuild function this reader does not interpret (sparse, nested, meta, wrapper
      // subclass tensors): the tensor is missing from the listing, so say so.
      let name = path.name
      findings.append(
        Finding(
          .warning, "pickle.uninterpreted-tensor",
          "\(name.isEmpty ? "the checkpoint" : name): \(callable.map(\.description) ?? "") is not read; "
            + "this tensor is not listed", offset: document.offset(of: value)))
    default:
      if try walk(module: object, value: value, path: path, section: section, depth: depth) {
        return
      }
      let name = path.name
      findings.append(
        Finding(
          .info, "pickle.opaque-object",
          "\(name.isEmpty ? "the checkpoint" : name): \(callable.map(\.description) ?? "an object") "
            + "call not interpreted: \(document.describe(value, budget: 12))",
          offset: document.offset(of: value)))
    }
  }

  /// Whether a call to `name` makes a dict whose items SETITEMS sets.
  static func isDictCall(_ name: (module: String, name: String)) -> Bool {
    switch name {
    case ("collections", "OrderedDict"), ("collections", "Counter"), ("builtins", "dict"),
      ("__builtin__", "dict"):
      return true
    default: return false
    }
  }

  /// The attribute dict of a BUILD state: the dict itself, or the first of a `(dict, slots)` pair.
  func moduleAttributes(_ state: PickleValue) -> PickleNode? {
    switch document.node(state) {
    case .dict?: return document.node(state)
    case .tuple(let pair)?: return pair.first.flatMap { document.node($0) }
    default: return nil
    }
  }

  /// The rebuild call `value` is: parsed once per node that is not a tensor or is one the walk
  /// has listed; nodes only tested (module attributes) are parsed again when walked.
  mutating func tensor(_ value: PickleValue, name: String) throws(ReadError)
    -> TensorRebuild?
  {
    guard case .node(let id) = value else { return nil }
    let cacheable = rebuildSlots.indices.contains(id.index)
    if cacheable {
      let slot = Int(rebuildSlots[id.index])
      if slot == 1 { return nil }
      if slot >= 2, tensors.indices.contains(slot - 2) { return tensors[slot - 2].rebuild }
    }
    do {
      guard
        let rebuild = try TensorRebuild(
          value, in: document, limits: limits, cache: rebuildCache)
      else {
        if cacheable { rebuildSlots[id.index] = 1 }
        return nil
      }
      return rebuild
    } catch {
      throw error.within("tensor \(name)")
    }
  }

  func keyText(_ key: PickleValue) -> String {
    switch key {
    case .string(let text): return text
    case .int(let number): return String(number)
    default: return document.describe(key, budget: 8)
    }
  }

  private func factText(_ value: PickleValue) -> String? {
    switch value {
    case .none: return nil
    case .global: return nil
    default: return document.describe(value, budget: 1).trimmingQuotes()
    }
  }
}

/// A tensor name being built during the walk: its components joined with `.`, and how many
/// components it has.
struct WalkPath {
  var name = ""
  var count = 0

  /// The path one component deeper.
  func appending(_ component: String) -> WalkPath {
    WalkPath(name: count == 0 ? component : name + "." + component, count: count + 1)
  }
}

extension String {
  /// The text without one pair of surrounding single quotes.
  fileprivate func trimmingQuotes() -> String {
    guard count >= 2, hasPrefix("'"), hasSuffix("'") else { return self }
    return String(dropFirst().dropLast())
  }
}
