import WeightScopeCore

/// Entries found by name: an open-addressing table over a seeded hash of the name bytes.
///
/// Names stay in the file; the table holds entry indices only. ASCII names are equal as
/// strings exactly when their bytes are, so for a directory of ASCII names a byte comparison
/// decides; a directory with any other name is indexed by `String` (canonically equivalent
/// names are one name), as is a non-ASCII query.
struct ZipNameIndex: Sendable {
  private enum Storage: Sendable {
    /// `slots[h & mask]` holds entry index + 1, 0 when empty; `hashes[i]` is entry i's hash.
    case bytes(slots: [Int32], hashes: [UInt64], mask: Int)
    case strings([String: Int])
  }

  private var storage: Storage
  /// The first entry of each name, in directory order of the later entry: `(later, first)`.
  private(set) var duplicates: [(later: Int, first: Int)] = []

  /// Indexes `entries`, recording every entry whose name an earlier entry has.
  init(_ entries: [CentralDirectoryHeader], reader: ByteReader) {
    guard entries.allSatisfy(\.nameIsASCII) else {
      var index: [String: Int] = [:]
      for (i, entry) in entries.enumerated() {
        let name = entry.name(in: reader)
        if let first = index[name] {
          duplicates.append((i, first))
        } else {
          index[name] = i
        }
      }
      storage = .strings(index)
      return
    }
    var capacity = 16
    while capacity < entries.count * 2 { capacity *= 2 }
    let mask = capacity - 1
    var slots = [Int32](repeating: 0, count: capacity)
    var hashes: [UInt64] = []
    hashes.reserveCapacity(entries.count)
    for (i, entry) in entries.enumerated() {
      let bytes = entry.nameBytes(in: reader)
      let hash = Self.hash(bytes)
      hashes.append(hash)
      var slot = Int(truncatingIfNeeded: hash) & mask
      while slots[slot] != 0 {
        let other = Int(slots[slot]) - 1
        if hashes[other] == hash, Self.equal(entries[other].nameBytes(in: reader), bytes) {
          duplicates.append((i, other))
          break
        }
        slot = (slot + 1) & mask
      }
      if slots[slot] == 0 { slots[slot] = Int32(i + 1) }
    }
    storage = .bytes(slots: slots, hashes: hashes, mask: mask)
  }

  /// The index of the first entry named `prefix + name`, without joining the two.
  func find(
    prefix: String, name: String, in entries: [CentralDirectoryHeader], reader: ByteReader
  ) -> Int? {
    switch storage {
    case .strings(let index):
      return index[prefix + name]
    case .bytes(let slots, let hashes, let mask):
      var prefix = prefix
      var name = name
      return prefix.withUTF8 { head in
        name.withUTF8 { tail -> Int? in
          let headRaw = UnsafeRawBufferPointer(head)
          let tailRaw = UnsafeRawBufferPointer(tail)
          guard isASCII(headRaw), isASCII(tailRaw) else {
            // A non-ASCII query may still equal an ASCII name canonically (K and KELVIN SIGN).
            let query = String(decoding: headRaw, as: UTF8.self) + String(decoding: tailRaw, as: UTF8.self)
            return entries.firstIndex { $0.name(in: reader) == query }
          }
          let count = head.count + tail.count
          return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { joined -> Int? in
            if let base = joined.baseAddress {
              if let from = headRaw.baseAddress { base.copyMemory(from: from, byteCount: head.count) }
              if let from = tailRaw.baseAddress {
                (base + head.count).copyMemory(from: from, byteCount: tail.count)
              }
            }
            let query = UnsafeRawBufferPointer(joined)
            let hash = Self.hash(query)
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 {
              let index = Int(slots[slot]) - 1
              if hashes[index] == hash, Self.equal(entries[index].nameBytes(in: reader), query) {
                return index
              }
              slot = (slot + 1) & mask
            }
            return nil
          }
        }
      }
    }
  }

  /// A per-process seed: names come from the file, so their collisions must not be plannable.
  private static let seed = UInt64.random(in: 1...UInt64.max)

  /// A seeded multiply-fold hash over eight bytes at a time.
  static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
      let product = a.multipliedFullWidth(by: b)
      return product.high ^ product.low
    }
    var h = seed ^ UInt64(bytes.count)
    var i = 0
    while i + 8 <= bytes.count {
      h = mix(h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0x9E37_79B9_7F4A_7C15)
      i += 8
    }
    if i < bytes.count {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < bytes.count {
        tail |= UInt64(bytes[i]) << shift
        shift += 8
        i += 1
      }
      h = mix(h ^ tail, 0xA076_1D64_78BD_642F)
    }
    return mix(h, 0xE703_7ED1_A0B4_28DB)
  }

  /// Byte equality, eight bytes at a time.
  static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var i = 0
    while i + 8 <= a.count {
      guard a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      else { return false }
      i += 8
    }
    while i < a.count {
      guard a[i] == b[i] else { return false }
      i += 1
    }
    return true
  }
}
