/// The position of each distinct key of a dict being built, so that a repeated key replaces
/// the earlier value as in Python.
///
/// Open addressing over a power-of-two table of positions, with a multiplicative hash of
/// scalars and FNV-1a over the bytes of strings: a checkpoint's `OrderedDict` of a hundred
/// thousand names costs one short hash per key, not a `Hasher` run and a boxed key.
struct PickleKeyIndex {
  /// Entry position + 1 per slot; 0 is empty.
  private var slots: [Int32] = []
  private(set) var count = 0

  /// The position of the key equal to `key`, for which `equals` answers; when there is none,
  /// records `key` as the next position (``count``) and returns nil.
  mutating func insert(_ key: PickleValue, equals: (Int) -> Bool) -> Int? {
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    let hash = Self.hash(key)
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let stored = Int(slots[slot])
      if stored == 0 {
        slots[slot] = Int32(truncatingIfNeeded: count + 1)
        hashes.append(hash)
        count += 1
        return nil
      }
      if equals(stored - 1) { return stored - 1 }
      slot = (slot + 1) & mask
    }
  }

  /// The hash of the key at each position, for growing.
  private var hashes: [UInt64] = []

  private mutating func grow() {
    // Positions are re-placed by their keys' hashes, kept beside them.
    let capacity = max(16, slots.count * 2)
    var bigger = [Int32](repeating: 0, count: capacity)
    let mask = capacity - 1
    for stored in slots where stored != 0 {
      let position = Int(stored) - 1
      var slot = Int(truncatingIfNeeded: hashes[position]) & mask
      while bigger[slot] != 0 { slot = (slot + 1) & mask }
      bigger[slot] = stored
    }
    slots = bigger
  }

  static func hash(_ key: PickleValue) -> UInt64 {
    switch key {
    case .string(let text):
      var text = text
      return text.withUTF8 { bytes in
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return mix(h)
      }
    case .int(let value): return mix(UInt64(bitPattern: value) ^ 0x1)
    case .bool(let value): return mix(value ? 0x11 : 0x10)
    case .none: return mix(0x20)
    case .float(let value): return mix((value == 0 ? 0 : value.bitPattern) ^ 0x30)
    case .node(let id): return mix(UInt64(bitPattern: Int64(id.index)) ^ 0x40)
    default: return mix(UInt64(bitPattern: Int64(key.hashValue)))
    }
  }

  private static func mix(_ value: UInt64) -> UInt64 {
    var x = value
    x = (x ^ (x >> 33)) &* 0xff51_afd7_ed55_8ccd
    x = (x ^ (x >> 33)) &* 0xc4ce_b9fe_1a85_ec53
    return x ^ (x >> 33)
  }
}
