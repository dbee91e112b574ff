import WeightScopeCore

/// Entries found by name: an open-addressing table over a seeded hash of the name bytes.
///
/// Names stay in the file; the table holds entry indices only. ASCII names are equal as
/// strings exactly when their bytes are, so for a directory of ASCII names a byte comparison
/// decides; a directory with any other name is indexed by `String` (canonically equivalent
/// names are one name), as is a non-ASCII query.
final class ZipNameIndex: Sendable {
  /// `slots[hash & mask]` holds entry index + 1, 0 when empty (ASCII directories).
  private let slots: [Int32]
  /// Entry i's hash, compared before its bytes.
  private let hashes: [UInt64]
  private let mask: Int
  /// The index by name, for a directory with a name that is not ASCII.
  private let strings: [String: Int]?
  /// Every entry whose name an earlier entry has, in directory order, with that first entry.
  let duplicates: [(later: Int, first: Int)]

  /// Indexes `entries`, recording every entry whose name an earlier entry has.
  init(_ entries: [CentralDirectoryHeader], reader: ByteReader) {
    var duplicates: [(later: Int, first: Int)] = []
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
      (slots, hashes, mask, strings) = ([], [], 0, index)
      self.duplicates = duplicates
      return
    }
    var capacity = 16
    while capacity < entries.count * 2 { capacity *= 2 }
    let mask = capacity - 1
    var slots = [Int32](repeating: 0, count: capacity)
    var hashes = [UInt64](repeating: 0, count: entries.count)
    slots.withUnsafeMutableBufferPointer { slots in
      hashes.withUnsafeMutableBufferPointer { hashes in
        for i in entries.indices {
          let name = entries[i].nameBytes(in: reader)
          let hash = Self.hash(name)
          hashes[i] = hash
          var slot = Int(truncatingIfNeeded: hash) & mask
          while slots[slot] != 0 {
            let other = Int(slots[slot]) - 1
            if hashes[other] == hash, Self.equal(entries[other].nameBytes(in: reader), name) {
              duplicates.append((i, other))
              break
            }
            slot = (slot + 1) & mask
          }
          if slots[slot] == 0 { slots[slot] = Int32(i + 1) }
        }
      }
    }
    (self.slots, self.hashes, self.mask, strings) = (slots, hashes, mask, nil)
    self.duplicates = duplicates
  }

  /// The index of the first entry named `prefix + name`; `prefixBytes` are the prefix's UTF-8
  /// bytes, kept by a caller that looks up many names in one folder.
  func find(
    prefix: String, prefixBytes: [UInt8], name: String, in entries: [CentralDirectoryHeader],
    reader: ByteReader
  ) -> Int? {
    if let strings { return strings[prefix + name] }
    var name = name
    return name.withUTF8 { tail -> Int? in
      let tail = UnsafeRawBufferPointer(tail)
      guard isASCII(tail), prefixBytes.withUnsafeBytes({ isASCII($0) }) else {
        // A non-ASCII query may still equal an ASCII name canonically (K and KELVIN SIGN).
        let query = prefix + String(decoding: tail, as: UTF8.self)
        return entries.firstIndex { $0.name(in: reader) == query }
      }
      let count = prefixBytes.count + tail.count
      return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { joined -> Int? in
        if let base = joined.baseAddress {
          prefixBytes.withUnsafeBytes { head in
            if let from = head.baseAddress { base.copyMemory(from: from, byteCount: head.count) }
          }
          if let from = tail.baseAddress {
            (base + prefixBytes.count).copyMemory(from: from, byteCount: tail.count)
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
      h = mix(h ^ tail(bytes, from: i), 0xA076_1D64_78BD_642F)
    }
    return mix(h, 0xE703_7ED1_A0B4_28DB)
  }

  /// The fewer than eight bytes from `start` to the end, little-endian in one word.
  private static func tail(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64 {
    let count = bytes.count - start
    var value: UInt64 = 0
    var done = 0
    if count & 4 != 0 {
      value = UInt64(bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self))
      done = 4
    }
    if count & 2 != 0 {
      value |= UInt64(bytes.loadUnaligned(fromByteOffset: start + done, as: UInt16.self)) << (done * 8)
      done += 2
    }
    if count & 1 != 0 {
      value |= UInt64(bytes[start + done]) << (done * 8)
    }
    return value
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
    return i == a.count || tail(a, from: i) == tail(b, from: i)
  }
}
