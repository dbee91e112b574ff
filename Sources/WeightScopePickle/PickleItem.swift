/// One stack, memo or stored entry: a scalar held inline, or an index into the pool or the
/// nodes.
///
/// Plain words only: copying one costs no reference counting, and a document of millions of
/// them is freed in one step.
@usableFromInline struct PickleItem: Sendable, Equatable, BitwiseCopyable {
  @usableFromInline enum Tag: UInt8, Sendable, BitwiseCopyable {
    case none, bool, int, float, pooled, node
    /// A memo index never written.
    case absent
  }

  @usableFromInline var tag: Tag
  @usableFromInline var payload: Int64

  static let none = PickleItem(tag: .none, payload: 0)
  static let absent = PickleItem(tag: .absent, payload: 0)
  static func bool(_ value: Bool) -> PickleItem { PickleItem(tag: .bool, payload: value ? 1 : 0) }
  static func int(_ value: Int64) -> PickleItem { PickleItem(tag: .int, payload: value) }
  static func float(_ value: Double) -> PickleItem {
    PickleItem(tag: .float, payload: Int64(bitPattern: value.bitPattern))
  }
  static func node(_ index: Int) -> PickleItem { PickleItem(tag: .node, payload: Int64(index)) }
  static func pooled(_ index: Int) -> PickleItem { PickleItem(tag: .pooled, payload: Int64(index)) }
  @inlinable var index: Int { Int(truncatingIfNeeded: payload) }

  /// The value this item stands for; `pool` holds the values that carry storage.
  @inlinable func value(_ pool: [PickleValue]) -> PickleValue {
    switch tag {
    case .none, .absent: return .none
    case .bool: return .bool(payload != 0)
    case .int: return .int(payload)
    case .float: return .float(Double(bitPattern: UInt64(bitPattern: payload)))
    case .pooled: return pool.indices.contains(index) ? pool[index] : .none
    case .node: return .node(PickleNodeID(index))
    }
  }
}
