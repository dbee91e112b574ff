/// The nodes of a finished ``PickleDocument``, flat: every tuple, list and set item in one
/// array, every dict and object item in another, each node a kind and a range.
///
/// Built once by ``PickleMachine`` and never changed; the views (``PickleValues``,
/// ``PickleDictEntries``, ``PickleObject``) share it, so reading a node allocates nothing and
/// freeing a document of a million nodes frees a handful of arrays.
@usableFromInline final class PickleStore: Sendable {
  @usableFromInline enum Kind: UInt8, Sendable, BitwiseCopyable {
    case tuple, list, dict, set, frozenset, bytearray, object, persistentID
  }

  /// One node: for sequences a range of ``items``, for dicts a range of ``entries`` (pairs),
  /// for objects an index into ``objects``, for bytearrays an index into ``bytearrays``, for a
  /// persistent id the one item at `start` in ``items``.
  @usableFromInline struct Node: Sendable, BitwiseCopyable {
    @usableFromInline var start: Int
    /// The kind in the low byte, the count above it: sixteen bytes a node.
    @usableFromInline var packed: UInt64

    @inlinable init(kind: Kind, start: Int, count: Int) {
      self.start = start
      packed = UInt64(truncatingIfNeeded: max(0, count)) << 8 | UInt64(kind.rawValue)
    }

    @inlinable var kind: Kind { Kind(rawValue: UInt8(truncatingIfNeeded: packed)) ?? .tuple }

    /// At most 2^56 - 1: more than any pickle's opcode count can make.
    @inlinable var count: Int {
      get { Int(truncatingIfNeeded: packed >> 8) }
      set { packed = UInt64(truncatingIfNeeded: max(0, newValue)) << 8 | (packed & 0xff) }
    }
  }

  /// A call: its parts as items. The rarer parts (keyword arguments, appended and set items)
  /// are in ``objectParts``, so that the millions of calls a checkpoint makes stay small.
  @usableFromInline struct Object: Sendable {
    @usableFromInline var callable: PickleItem
    @usableFromInline var arguments: PickleItem
    /// ``PickleItem/absent`` when there was no BUILD.
    @usableFromInline var state: PickleItem
    /// Index into ``objectParts``; -1 when the call has none of them.
    @usableFromInline var parts: Int
    @usableFromInline var construction: PickleConstruction
  }

  /// What few calls have: NEWOBJ_EX's keyword arguments, APPEND and SETITEM items.
  @usableFromInline struct ObjectParts: Sendable {
    /// ``PickleItem/absent`` when there are none.
    @usableFromInline var keywordArguments: PickleItem
    @usableFromInline var appended: Range<Int>
    @usableFromInline var entries: Range<Int>
  }

  @usableFromInline let pool: [PickleValue]
  @usableFromInline let items: PlainBuffer<PickleItem>
  /// Keys and values, alternating.
  @usableFromInline let entries: [PickleItem]
  @usableFromInline let nodes: PlainBuffer<Node>
  @usableFromInline let objects: [Object]
  @usableFromInline let objectParts: [ObjectParts]
  let bytearrays: [[UInt8]]
  /// Offset of the opcode that made each node (parallel to ``nodes``).
  @usableFromInline let offsets: PlainBuffer<Int>

  init(
    pool: [PickleValue], items: PlainBuffer<PickleItem>, entries: [PickleItem],
    nodes: PlainBuffer<Node>, objects: [Object], objectParts: [ObjectParts], bytearrays: [[UInt8]],
    offsets: PlainBuffer<Int>
  ) {
    self.pool = pool
    self.items = items
    self.entries = entries
    self.nodes = nodes
    self.objects = objects
    self.objectParts = objectParts
    self.bytearrays = bytearrays
    self.offsets = offsets
  }

  static let empty = PickleStore(
    pool: [], items: PlainBuffer(), entries: [], nodes: PlainBuffer(), objects: [], objectParts: [],
    bytearrays: [],
    offsets: PlainBuffer())

  @inlinable func value(_ item: PickleItem) -> PickleValue { item.value(pool) }

  /// The node at `index` as the public enum of views; ``PickleNode/pending`` when out of range.
  @usableFromInline func node(_ index: Int) -> PickleNode {
    guard nodes.indices.contains(index) else { return .pending }
    let node = nodes[index]
    switch node.kind {
    case .tuple: return .tuple(PickleValues(self, node.start, node.count))
    case .list: return .list(PickleValues(self, node.start, node.count))
    case .set: return .set(PickleValues(self, node.start, node.count))
    case .frozenset: return .frozenset(PickleValues(self, node.start, node.count))
    case .dict: return .dict(PickleDictEntries(self, node.start, node.count))
    case .bytearray:
      return bytearrays.indices.contains(node.start) ? .bytearray(bytearrays[node.start]) : .pending
    case .object:
      return objects.indices.contains(node.start) ? .object(PickleObject(self, node.start)) : .pending
    case .persistentID:
      return items.indices.contains(node.start) ? .persistentID(value(items[node.start])) : .pending
    }
  }
}

/// The items of a tuple, list or set in a ``PickleDocument``: a view, not a copy.
public struct PickleValues: RandomAccessCollection, Sendable, Equatable, CustomStringConvertible {
  @usableFromInline let store: PickleStore
  @usableFromInline let start: Int
  public let count: Int

  @inlinable init(_ store: PickleStore, _ start: Int, _ count: Int) {
    self.store = store
    self.start = start
    self.count = count
  }

  /// No items.
  public static var empty: PickleValues { PickleValues(.empty, 0, 0) }

  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { count }

  @inlinable public subscript(position: Int) -> PickleValue {
    precondition(position >= 0 && position < count, "PickleValues index out of range")
    return store.value(store.items[start + position])
  }

  public static func == (a: PickleValues, b: PickleValues) -> Bool { a.elementsEqual(b) }

  public var description: String { Array(self).description }
}

/// The entries of a dict, or the items SETITEMS set on an object, in insertion order: a view.
public struct PickleDictEntries: RandomAccessCollection, Sendable, Equatable {
  @usableFromInline let store: PickleStore
  /// Index of the first key in ``PickleStore/entries``.
  @usableFromInline let start: Int
  public let count: Int

  @inlinable init(_ store: PickleStore, _ start: Int, _ count: Int) {
    self.store = store
    self.start = start
    self.count = count
  }

  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { count }

  @inlinable public subscript(position: Int) -> PickleDictEntry {
    precondition(position >= 0 && position < count, "PickleDictEntries index out of range")
    let at = start + 2 * position
    return PickleDictEntry(key: store.value(store.entries[at]), value: store.value(store.entries[at + 1]))
  }

  public static func == (a: PickleDictEntries, b: PickleDictEntries) -> Bool { a.elementsEqual(b) }
}

/// What a call in the pickle would have built: never built, only described.
public struct PickleObject: Sendable, Equatable {
  @usableFromInline let store: PickleStore
  @usableFromInline let index: Int

  @inlinable init(_ store: PickleStore, _ index: Int) {
    self.store = store
    self.index = index
  }

  @inlinable var record: PickleStore.Object { store.objects[index] }

  /// The callable: usually a ``PickleValue/global(_:use:)``.
  @inlinable public var callable: PickleValue { store.value(record.callable) }
  /// Positional arguments (a tuple node for REDUCE and NEWOBJ).
  @inlinable public var arguments: PickleValue { store.value(record.arguments) }
  /// Keyword arguments (NEWOBJ_EX only).
  public var keywordArguments: PickleValue? {
    guard let parts else { return nil }
    let item = parts.keywordArguments
    return item.tag == .absent ? nil : store.value(item)
  }
  public var construction: PickleConstruction { record.construction }
  /// The state BUILD would pass to `__setstate__`, when there was a BUILD.
  public var state: PickleValue? {
    let item = record.state
    return item.tag == .absent ? nil : store.value(item)
  }
  /// Items APPEND/APPENDS/ADDITEMS would add to the object.
  public var appended: PickleValues {
    guard let range = parts?.appended else { return PickleValues(store, 0, 0) }
    return PickleValues(store, range.lowerBound, range.count)
  }
  /// Items SETITEM/SETITEMS would set on the object (an `OrderedDict`'s contents).
  public var items: PickleDictEntries {
    guard let range = parts?.entries else { return PickleDictEntries(store, 0, 0) }
    return PickleDictEntries(store, range.lowerBound, range.count / 2)
  }

  /// The call's rarer parts, when it has any.
  private var parts: PickleStore.ObjectParts? {
    let index = record.parts
    return store.objectParts.indices.contains(index) ? store.objectParts[index] : nil
  }

  /// The callable's name, when it is a global.
  @inlinable public var callableGlobal: PickleGlobal? {
    let callable = record.callable
    guard callable.tag == .pooled, store.pool.indices.contains(callable.index),
      case .global(let global, _) = store.pool[callable.index]
    else { return nil }
    return global
  }

  public static func == (a: PickleObject, b: PickleObject) -> Bool {
    if a.store === b.store && a.index == b.index { return true }
    return a.callable == b.callable && a.arguments == b.arguments
      && a.keywordArguments == b.keywordArguments && a.construction == b.construction
      && a.state == b.state && a.appended == b.appended && a.items == b.items
  }
}
