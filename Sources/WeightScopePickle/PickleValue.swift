/// A module-qualified name a pickle refers to: `torch._utils._rebuild_tensor_v2`.
///
/// It is only a name: nothing is imported or looked up.
public struct PickleGlobal: Sendable, Equatable, Hashable, CustomStringConvertible {
  public var module: String
  public var name: String

  public init(_ module: String, _ name: String) {
    self.module = module
    self.name = name
  }

  public var description: String { module.isEmpty ? name : "\(module).\(name)" }
}

/// The position of a composite value in a ``PickleDocument``'s node arena.
public struct PickleNodeID: Sendable, Equatable, Hashable {
  public let index: Int

  public init(_ index: Int) { self.index = index }
}

/// One value on the pickle stack: a scalar held inline, or a reference to a node.
///
/// Composite values (tuples, lists, dicts, sets, objects, persistent ids) live in the
/// document's node arena, so that memo references share one node exactly as Python shares
/// one object, and a pickle that references the same value a billion times stays small.
public enum PickleValue: Sendable, Equatable, Hashable {
  case none
  case bool(Bool)
  case int(Int64)
  /// An integer that does not fit `Int64`: little-endian two's complement bytes.
  case bigInt([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  /// A global; `use` indexes ``PickleDocument/globals``, the place that referenced it.
  ///
  /// Boxed, so that every other value stays small (a pickle holds millions of them).
  indirect case global(PickleGlobal, use: Int)
  case node(PickleNodeID)

  /// The integer, when this is an `Int64`-sized int (bools count, as in Python).
  public var intValue: Int64? {
    switch self {
    case .int(let value): return value
    case .bool(let value): return value ? 1 : 0
    default: return nil
    }
  }

  public var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  public var globalValue: PickleGlobal? {
    if case .global(let global, _) = self { return global }
    return nil
  }

  public var nodeID: PickleNodeID? {
    if case .node(let id) = self { return id }
    return nil
  }
}

/// How an object node was made.
public enum PickleConstruction: String, Sendable, Equatable, Hashable {
  case reduce = "REDUCE"
  case newobj = "NEWOBJ"
  case newobjEx = "NEWOBJ_EX"
  case obj = "OBJ"
  case inst = "INST"
}

/// A key and value of a pickled dict, in insertion order.
public struct PickleDictEntry: Sendable, Equatable, Hashable {
  public var key: PickleValue
  public var value: PickleValue

  public init(key: PickleValue, value: PickleValue) {
    self.key = key
    self.value = value
  }
}

/// A composite value in a ``PickleDocument``: views into the document, never copies.
public enum PickleNode: Sendable, Equatable {
  case tuple(PickleValues)
  case list(PickleValues)
  case dict(PickleDictEntries)
  case set(PickleValues)
  case frozenset(PickleValues)
  case bytearray([UInt8])
  case object(PickleObject)
  /// A persistent id (PERSID, BINPERSID): the value the pickler's `persistent_id` returned.
  case persistentID(PickleValue)
  /// What an id outside the document names.
  case pending
}

/// The route by which a pickle named a global.
public enum PickleGlobalRoute: String, Sendable, Equatable, Hashable {
  case global = "GLOBAL"
  case stackGlobal = "STACK_GLOBAL"
  case inst = "INST"
  /// EXT1/EXT2/EXT4: a code in the extension registry, which is never consulted.
  case ext = "EXT"
}

/// One place where a pickle referenced a global, for a security scan.
public struct PickleGlobalUse: Sendable, Equatable, Hashable {
  public var global: PickleGlobal
  /// Offset of the opcode that named it.
  public var offset: Int
  public var route: PickleGlobalRoute
  /// Whether REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST would have called it.
  public var called: Bool

  public init(global: PickleGlobal, offset: Int, route: PickleGlobalRoute, called: Bool = false) {
    self.global = global
    self.offset = offset
    self.route = route
    self.called = called
  }
}

/// The result of running a pickle: the value STOP returned and every node it refers to.
public struct PickleDocument: Sendable, Equatable {
  /// The value left by STOP.
  public var root: PickleValue
  /// Every global referenced, in the order the pickle referenced them.
  public var globals: [PickleGlobalUse]
  /// The protocol PROTO declared, or 0 when there was none.
  public var protocolVersion: Int
  /// Offset just past the STOP opcode.
  public var endOffset: Int
  /// Opcodes executed.
  public var opcodeCount: Int
  @usableFromInline let store: PickleStore

  init(
    root: PickleValue, store: PickleStore, globals: [PickleGlobalUse], protocolVersion: Int,
    endOffset: Int, opcodeCount: Int
  ) {
    self.root = root
    self.store = store
    self.globals = globals
    self.protocolVersion = protocolVersion
    self.endOffset = endOffset
    self.opcodeCount = opcodeCount
  }

  public static func == (a: PickleDocument, b: PickleDocument) -> Bool {
    a.root == b.root && a.globals == b.globals && a.protocolVersion == b.protocolVersion
      && a.endOffset == b.endOffset && a.opcodeCount == b.opcodeCount
      && (a.store === b.store || a.nodes.elementsEqual(b.nodes))
  }

  /// Composite values, indexed by ``PickleNodeID``.
  public var nodes: Nodes { Nodes(store: store) }

  /// The same document through objects of its own, for reading on a second thread; call it
  /// there.
  ///
  /// Reading a value takes and drops references: to the store (every view holds it), and to
  /// the box of a global (a checkpoint names the same few globals for every tensor). Two
  /// threads reading one document would both write those counts for every value they read.
  /// The copy has its own store, sharing the buffers of nodes and items, and its own pool of
  /// scalars with globals boxed anew.
  public func forAnotherThread() -> PickleDocument {
    let pool = store.pool.map { value -> PickleValue in
      guard case .global(let global, let use) = value else { return value }
      return .global(PickleGlobal(fresh(global.module), fresh(global.name)), use: use)
    }
    return PickleDocument(
      root: root,
      store: PickleStore(
        pool: pool, items: store.items, entries: store.entries, nodes: store.nodes,
        objects: store.objects, objectParts: store.objectParts, bytearrays: store.bytearrays,
        offsets: store.offsets),
      globals: globals.map {
        PickleGlobalUse(
          global: PickleGlobal(fresh($0.global.module), fresh($0.global.name)), offset: $0.offset,
          route: $0.route, called: $0.called)
      },
      protocolVersion: protocolVersion, endOffset: endOffset, opcodeCount: opcodeCount)
  }

  /// Offset of the opcode that made each node (parallel to ``nodes``).
  public var nodeOffsets: [Int] { store.offsets.array() }

  /// The node `id` names; ``PickleNode/pending`` for an id that is not in this document.
  @inlinable public subscript(id: PickleNodeID) -> PickleNode { store.node(id.index) }

  /// The node `value` refers to, or nil for a scalar.
  @inlinable public func node(_ value: PickleValue) -> PickleNode? {
    guard case .node(let id) = value else { return nil }
    return self[id]
  }

  /// Offset of the opcode that made the node `value` refers to.
  @inlinable public func offset(of value: PickleValue) -> Int? {
    guard case .node(let id) = value, store.offsets.indices.contains(id.index) else { return nil }
    return store.offsets[id.index]
  }

  /// The elements of a tuple or list node, or nil.
  @inlinable public func sequence(_ value: PickleValue) -> PickleValues? {
    guard case .node(let id) = value, store.nodes.indices.contains(id.index) else { return nil }
    let node = store.nodes[id.index]
    guard node.kind == .tuple || node.kind == .list else { return nil }
    return PickleValues(store, node.start, node.count)
  }

  /// The object node `value` refers to, or nil.
  @inlinable public func object(_ value: PickleValue) -> PickleObject? {
    guard case .node(let id) = value, store.nodes.indices.contains(id.index) else { return nil }
    let node = store.nodes[id.index]
    guard node.kind == .object, store.objects.indices.contains(node.start) else { return nil }
    return PickleObject(store, node.start)
  }

  /// The value of the persistent id node `value` refers to, or nil.
  @inlinable public func persistentID(_ value: PickleValue) -> PickleValue? {
    guard case .node(let id) = value, store.nodes.indices.contains(id.index) else { return nil }
    let node = store.nodes[id.index]
    guard node.kind == .persistentID, store.items.indices.contains(node.start) else { return nil }
    return store.value(store.items[node.start])
  }

  /// The document's nodes, made on access.
  public struct Nodes: RandomAccessCollection, Sendable {
    let store: PickleStore
    public var startIndex: Int { 0 }
    public var endIndex: Int { store.nodes.count }
    public subscript(position: Int) -> PickleNode { store.node(position) }
  }
}

/// `text` in storage of its own (a long string is otherwise shared with the original).
private func fresh(_ text: String) -> String {
  String(decoding: Array(text.utf8), as: UTF8.self)
}
