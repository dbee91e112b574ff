/// One stack, memo or stored entry in one 64-bit word: a tag in the low three bits and a
/// 61-bit payload above them, either a small scalar held inline or an index into the pool or
/// the nodes.
///
/// Plain words only: copying one costs no reference counting, a document of millions of them
/// is freed in one step, and a checkpoint of a hundred thousand tensors fills half the memory
/// a tag-and-payload pair would. Integers outside 61 bits and all floats live in the pool.
@usableFromInline struct PickleItem: Sendable, Equatable, BitwiseCopyable {
  @usableFromInline enum Tag: UInt8, Sendable, BitwiseCopyable {
    case none, bool, int, pooled, node
    /// A memo index never written.
    case absent
  }

  @usableFromInline var raw: UInt64

  @inlinable init(tag: Tag, payload: Int64) {
    raw = UInt64(bitPattern: payload << 3) | UInt64(tag.rawValue)
  }

  @inlinable var tag: Tag { Tag(rawValue: UInt8(truncatingIfNeeded: raw & 7)) ?? .absent }
  /// The payload, sign-extended from 61 bits.
  @inlinable var payload: Int64 { Int64(bitPattern: raw) >> 3 }
  @inlinable var index: Int { Int(truncatingIfNeeded: payload) }

  /// The range of integers held inline.
  static let inlineInts: ClosedRange<Int64> = -(1 << 60)...((1 << 60) - 1)

  static let none = PickleItem(tag: .none, payload: 0)
  static let absent = PickleItem(tag: .absent, payload: 0)
  static func bool(_ value: Bool) -> PickleItem { PickleItem(tag: .bool, payload: value ? 1 : 0) }
  /// An integer known to fit in 61 bits (the machine pools the others).
  static func smallInt(_ value: Int64) -> PickleItem { PickleItem(tag: .int, payload: value) }
  static func node(_ index: Int) -> PickleItem { PickleItem(tag: .node, payload: Int64(index)) }
  static func pooled(_ index: Int) -> PickleItem { PickleItem(tag: .pooled, payload: Int64(index)) }

  /// The value this item stands for; `pool` holds the values that carry storage.
  @inlinable func value(_ pool: [PickleValue]) -> PickleValue {
    switch tag {
    case .none, .absent: return .none
    case .bool: return .bool(payload != 0)
    case .int: return .int(payload)
    case .pooled: return pool.indices.contains(index) ? pool[index] : .none
    case .node: return .node(PickleNodeID(index))
    }
  }
}
