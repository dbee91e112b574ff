import WeightScopeCore

/// Entries found by name: an open-addressing table over a seeded hash of the name bytes.
///
/// Names stay in the file; the table holds entry indices and hash bits only. ASCII names
/// are equal as strings exactly when their bytes are, so for a directory of ASCII names a byte
/// comparison decides; a directory with any other name is indexed by `String` (canonically
/// equivalent names are one name), as is a non-ASCII query.
///
/// An index may cover one folder: the entries whose names start with a prefix, keyed by the
/// rest, so that a storage record is found by its key alone.
///
/// The tables live in memory this object owns and never changes after `init`, which is what
/// makes it `Sendable`; lookups touch no reference count.
final class ZipNameIndex: @unchecked Sendable {
  /// What every indexed name starts with.
  let prefix: String
  private let prefixCount: Int
  /// The indexed entries' headers, which locate their names.
  private let headers: [CentralDirectoryHeader]
  /// Keeps the file's bytes, which the names are read from, alive.
  private let file: FileBytes
  /// `slots[hash & mask]` holds the hash's high half over entry index + 1, 0 when empty.
  private let slots: UnsafeMutableBufferPointer<UInt64>
  private let mask: Int
  /// The per-process seed, read once.
  private let hashSeed: UInt64
  /// The index by whole name, when a name or the prefix is not ASCII.
  let strings: [String: Int]?
  /// Every entry whose name an earlier entry has, in directory order, with that first entry.
  let duplicates: [(later: Int, first: Int)]

  /// Indexes the entries, parsed from `reader`, whose names start with `prefix`, recording
  /// every entry whose name an earlier entry has.
  init(_ entries: [CentralDirectoryHeader], reader: ByteReader, prefix: String = "") {
    self.prefix = prefix
    headers = entries
    file = reader.bytes
    var duplicates: [(later: Int, first: Int)] = []
    let prefixBytes = Array(prefix.utf8)
    prefixCount = prefixBytes.count
    guard prefixBytes.withUnsafeBytes({ isASCII($0) }), entries.allSatisfy(\.nameIsASCII) else {
      // Every name: a dictionary of whole names answers `prefix + name` exactly.
      var index: [String: Int] = [:]
      for (i, entry) in entries.enumerated() {
        let name = entry.name(in: reader)
        if let first = index[name] {
          duplicates.append((i, first))
        } else {
          index[name] = i
        }
      }
      slots = .allocate(capacity: 0)
      mask = 0
      hashSeed = 0
      strings = index
      self.duplicates = duplicates
      return
    }
    var capacityBits = 4
    while 1 << capacityBits < entries.count * 2 { capacityBits += 1 }
    let mask = (1 << capacityBits) - 1
    let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: mask + 1)
    slots.initialize(repeating: 0)
    let seed = Self.seed
    let base = file.buffer
    let skip = prefixBytes.count
    // Each name's hash, 0 for a name outside the prefix (hashes are never 0).
    var hashes = [UInt64](repeating: 0, count: entries.count)
    prefixBytes.withUnsafeBytes { wanted in
      for i in entries.indices {
        let range = entries[i].nameRange
        guard range.count >= wanted.count,
          Self.equal(UnsafeRawBufferPointer(rebasing: base[range.lowerBound..<(range.lowerBound + wanted.count)]), wanted)
        else { continue }
        hashes[i] = Self.hash(Self.rest(of: entries[i], skipping: wanted.count, in: base), seed: seed)
      }
    }
    // Names go in by regions of the table, each region's in directory order (a stable
    // counting sort): probes then walk the table forward instead of missing the cache at
    // random, and of two equal names the earlier still goes in first.
    let regionBits = min(8, capacityBits)
    let shift = capacityBits - regionBits
    func region(_ hash: UInt64) -> Int { (Int(truncatingIfNeeded: hash) & mask) >> shift }
    var starts = [Int](repeating: 0, count: (1 << regionBits) + 1)
    for hash in hashes where hash != 0 { starts[region(hash) + 1] += 1 }
    for r in 0..<(1 << regionBits) { starts[r + 1] += starts[r] }
    var order = [Int32](repeating: 0, count: starts[1 << regionBits])
    for (i, hash) in hashes.enumerated() where hash != 0 {
      order[starts[region(hash)]] = Int32(truncatingIfNeeded: i)
      starts[region(hash)] += 1
    }
    for entry in order {
      let i = Int(entry)
      let hash = hashes[i]
      let tag = hash & 0xffff_ffff_0000_0000
      var slot = Int(truncatingIfNeeded: hash) & mask
      var duplicate = false
      while slots[slot] != 0 {
        let other = Int(truncatingIfNeeded: slots[slot] & 0xffff_ffff) - 1
        // Names are read only when the hashes agree.
        if slots[slot] & 0xffff_ffff_0000_0000 == tag,
          Self.equal(
            Self.rest(of: entries[other], skipping: skip, in: base),
            Self.rest(of: entries[i], skipping: skip, in: base))
        {
          duplicates.append((i, other))
          duplicate = true
          break
        }
        slot = (slot + 1) & mask
      }
      if !duplicate { slots[slot] = tag | UInt64(i + 1) }
    }
    duplicates.sort { $0.later < $1.later }
    self.slots = slots
    self.mask = mask
    hashSeed = seed
    strings = nil
    self.duplicates = duplicates
  }

  deinit {
    slots.deallocate()
  }

  /// The bytes of `header`'s name after its first `count`.
  private static func rest(
    of header: CentralDirectoryHeader, skipping count: Int, in base: UnsafeRawBufferPointer
  ) -> UnsafeRawBufferPointer {
    let range = header.nameRange
    return UnsafeRawBufferPointer(rebasing: base[(range.lowerBound + count)..<range.upperBound])
  }

  /// The index of the first entry named ``prefix`` + `name`.
  ///
  /// `entries` and `reader` are the indexed ones; only a query that is not ASCII reads them,
  /// comparing strings.
  func find(_ name: String, in entries: [CentralDirectoryHeader], reader: ByteReader) -> Int? {
    if let strings { return strings[prefix + name] }
    var name = name
    let found: Int?? = name.withUTF8 { rest in
      let rest = UnsafeRawBufferPointer(rest)
      guard isASCII(rest) else { return .none }
      let hash = Self.hash(rest, seed: hashSeed)
      let tag = hash & 0xffff_ffff_0000_0000
      let base = file.buffer
      var slot = Int(truncatingIfNeeded: hash) & mask
      while slots[slot] != 0 {
        let index = Int(truncatingIfNeeded: slots[slot] & 0xffff_ffff) - 1
        if slots[slot] & 0xffff_ffff_0000_0000 == tag,
          Self.equal(Self.rest(of: headers[index], skipping: prefixCount, in: base), rest)
        {
          return .some(index)
        }
        slot = (slot + 1) & mask
      }
      return .some(nil)
    }
    if let found { return found }
    // A non-ASCII query may still equal an ASCII name canonically (K and KELVIN SIGN).
    let query = prefix + name
    return entries.firstIndex { $0.name(in: reader) == query }
  }

  /// A per-process seed: names come from the file, so their collisions must not be plannable.
  private static let seed = UInt64.random(in: 1...UInt64.max)

  /// A multiply-fold hash over eight bytes at a time, seeded with `seed`; its top bit is
  /// always set, so it is never 0.
  @inline(__always)
  static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
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
    return mix(h, 0xE703_7ED1_A0B4_28DB) | 1 << 63
  }

  /// The fewer than eight bytes from `start` to the end, little-endian in one word.
  @inline(__always)
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
  @inline(__always)
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
