/// The key hashes of pickle dicts, and the position of each distinct key for a dict whose
/// hashes repeat, so that a repeated key replaces the earlier value as in Python.
///
/// ``hasRepeats(_:)`` answers for most dicts: a radix sort of their key hashes, with no random
/// memory access. Only a dict with a repeated hash goes through the table: open addressing over
/// a power-of-two table whose slots hold 32 bits of the key's hash beside its position, so keys
/// are compared only on a matching hash. Strings are hashed with FNV-1a over their bytes.
package struct PickleKeyIndex {
  /// Position + 1 in the low 32 bits (0 is empty), hash fragment in the high 32 bits.
  private var slots: [UInt64] = []
  private(set) var count = 0

  /// The position of the key equal to `key`, for which `equals` answers; when there is none,
  /// records `key` as the next position (``count``) and returns nil.
  mutating func insert(_ key: PickleValue, equals: (Int) -> Bool) -> Int? {
    // Positions are 32-bit; a dict past four billion keys (far beyond any opcode limit) keeps
    // its further keys unindexed rather than misplacing them.
    guard count < 0xffff_fffe else { return nil }
    if (count + 1) * 2 > slots.count { grow() }
    let mask = slots.count - 1
    let fragment = Self.hash(key) >> 32
    var slot = Int(truncatingIfNeeded: fragment) & mask
    while true {
      let stored = slots[slot]
      if stored == 0 {
        slots[slot] = fragment << 32 | UInt64(truncatingIfNeeded: count + 1)
        count += 1
        return nil
      }
      if stored >> 32 == fragment {
        let position = Int(truncatingIfNeeded: stored & 0xffff_ffff) - 1
        if equals(position) { return position }
      }
      slot = (slot + 1) & mask
    }
  }

  private mutating func grow() {
    let capacity = max(16, slots.count * 2)
    var bigger = [UInt64](repeating: 0, count: capacity)
    let mask = capacity - 1
    for stored in slots where stored != 0 {
      var slot = Int(truncatingIfNeeded: stored >> 32) & mask
      while bigger[slot] != 0 { slot = (slot + 1) & mask }
      bigger[slot] = stored
    }
    slots = bigger
  }

  /// Whether any hash occurs twice: a radix sort of a copy, then one pass.
  package static func hasRepeats(_ hashes: [UInt64]) -> Bool {
    if hashes.count < 64 {
      let sorted = hashes.sorted()
      return zip(sorted, sorted.dropFirst()).contains { $0 == $1 }
    }
    var keys = hashes
    var scratch = [UInt64](repeating: 0, count: hashes.count)
    // Eight passes over one byte each, least significant first: stable, so sorted at the end.
    keys.withUnsafeMutableBufferPointer { keys in
      scratch.withUnsafeMutableBufferPointer { scratch in
        var source = keys
        var target = scratch
        for pass in 0..<8 {
          let shift = UInt64(pass * 8)
          var counts = [Int](repeating: 0, count: 257)
          for key in source { counts[Int((key >> shift) & 0xff) + 1] += 1 }
          for digit in 0..<256 { counts[digit + 1] += counts[digit] }
          for key in source {
            let digit = Int((key >> shift) & 0xff)
            target[counts[digit]] = key
            counts[digit] += 1
          }
          swap(&source, &target)
        }
        // After an even number of passes the sorted keys are back in `keys`.
      }
    }
    for i in 1..<keys.count where keys[i] == keys[i - 1] { return true }
    return false
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
