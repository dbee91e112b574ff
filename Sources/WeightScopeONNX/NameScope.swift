/// Names in scope while graphs are walked, each bound to a tensor index.
///
/// Names compare as Swift strings do (canonical equivalence). While every name bound or looked
/// up is ASCII, where that is byte equality, the names are kept by their bytes in an
/// open-addressing table with a cheap hash: a node's input is then looked up straight from the
/// file's bytes, with no string made and no SipHash. The first other name moves every binding
/// to a dictionary of strings, which serves from then on.
struct NameScope {
  /// One bound name: its bytes in `arena`, their hash, and its value.
  private struct Entry {
    /// Offset of the name in `arena`.
    var start: Int
    var length: UInt32
    var hash: UInt32
    /// The tensor index, or `unbound` for a name whose binding was removed.
    var value: Int
  }

  private static let unbound = Int.min

  /// Open addressing over `entries`: 0 for an empty slot, else an entry's index plus one.
  /// Power-of-two sized; empty until the first binding.
  private var table: [Int32] = []
  /// Every name bound so far, in order, unbound ones included.
  private var entries: [Entry] = []
  /// Bytes of every name in `entries`, one after another.
  private var arena: [UInt8] = []
  /// Every binding, once a name that is not ASCII has been seen.
  private var strings: [String: Int]?
  /// Two bits per bound name's hash, set when it is bound: a name with either bit clear was
  /// never bound, found without reading the table. Small enough to stay in cache while the
  /// table, read at random, does not. Sized with the table; empty until the first binding.
  private var filter: [UInt64] = []
  /// The entry after the last one found: nodes mostly use tensors in the order they were
  /// bound, so the next name looked up is often this one, found without reading the table.
  private var predicted = 0

  /// Makes room for `count` more names.
  mutating func reserveCapacity(_ count: Int) {
    if let current = strings?.count {
      strings?.reserveCapacity(current + count)
    } else {
      grow(toHold: entries.count + count)
      entries.reserveCapacity(entries.count + count)
    }
  }

  /// The index bound to `name`, or nil.
  subscript(name: String) -> Int? {
    get {
      if let strings { return strings[name] }
      var text = name
      let ascii: Int?? = text.withUTF8 { utf8 in
        let bytes = UnsafeRawBufferPointer(utf8)
        return Self.asciiHash(bytes).map { lookUp(bytes, hash: $0).value }
      }
      if let ascii { return ascii }
      // Another name may still equal an ASCII one (U+212A KELVIN SIGN is "K"): compared as
      // strings, one by one. Only names that are not ASCII take this way, and only before
      // such a name is bound or looked up by its bytes.
      return arena.withUnsafeBytes { arena in
        for entry in entries where entry.value != Self.unbound {
          let bytes = UnsafeRawBufferPointer(
            rebasing: arena[entry.start..<(entry.start + Int(entry.length))])
          if String(decoding: bytes, as: UTF8.self) == name { return entry.value }
        }
        return nil
      }
    }
    set {
      if let newValue {
        updateValue(newValue, forKey: name)
      } else {
        remove(name)
      }
    }
  }

  /// The index bound to the name whose UTF-8 bytes are `bytes` (invalid sequences repaired, as
  /// when the name is decoded), or nil.
  mutating func index(ofUTF8 bytes: UnsafeRawBufferPointer) -> Int? {
    if strings == nil {
      if let hash = Self.asciiHash(bytes) { return find(bytes, hash: hash) }
      moveToStrings()
    }
    return strings?[String(decoding: bytes, as: UTF8.self)]
  }

  /// Binds `name` to `value`; returns what it was bound to before.
  @discardableResult
  mutating func updateValue(_ value: Int, forKey name: String) -> Int? {
    if strings == nil {
      var text = name
      let previous: Int?? = text.withUTF8 { utf8 in
        let bytes = UnsafeRawBufferPointer(utf8)
        guard let hash = Self.asciiHash(bytes) else { return .none }
        return .some(insert(bytes, hash: hash, value))
      }
      if let previous { return previous }
      moveToStrings()
    }
    return strings?.updateValue(value, forKey: name)
  }

  private mutating func remove(_ name: String) {
    if strings == nil {
      var text = name
      let handled: Bool = text.withUTF8 { utf8 in
        let bytes = UnsafeRawBufferPointer(utf8)
        guard let hash = Self.asciiHash(bytes) else { return false }
        if let e = entry(of: bytes, hash: hash).entry {
          entries[e].value = Self.unbound
        }
        return true
      }
      if handled { return }
      moveToStrings()
    }
    strings?[name] = nil
  }

  // MARK: The byte table

  /// FNV-1a of `bytes`, folded to 32 bits; nil when they are not all ASCII.
  private static func asciiHash(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var all: UInt8 = 0
    for byte in bytes {
      all |= byte
      h ^= UInt64(byte)
      h &*= 0x0000_0100_0000_01b3
    }
    guard all < 0x80 else { return nil }
    return UInt32(truncatingIfNeeded: h ^ (h >> 32))
  }

  /// The entry holding `bytes`, if any, and the slot of `table` that holds it or where it
  /// would go (nil while the table is empty).
  private func entry(of bytes: UnsafeRawBufferPointer, hash: UInt32)
    -> (entry: Int?, slot: Int?)
  {
    guard !table.isEmpty else { return (nil, nil) }
    let mask = table.count - 1
    var i = Int(hash) & mask
    while true {
      let e = Int(table[i]) - 1
      if e < 0 { return (nil, i) }
      if matches(entries[e], bytes, hash: hash) { return (e, i) }
      i = (i + 1) & mask
    }
  }

  /// The index bound to `bytes`, or nil; remembers where the next name will likely be.
  private mutating func find(_ bytes: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
    let (value, e) = lookUp(bytes, hash: hash)
    if let e { predicted = e + 1 }
    return value
  }

  /// The index bound to `bytes` and the entry that holds it: the predicted entry first, then
  /// the filter, then the table.
  private func lookUp(_ bytes: UnsafeRawBufferPointer, hash: UInt32) -> (value: Int?, entry: Int?) {
    var e: Int?
    if predicted < entries.count, matches(entries[predicted], bytes, hash: hash) {
      e = predicted
    } else if mayHold(hash) {
      e = entry(of: bytes, hash: hash).entry
    }
    guard let e, entries[e].value != Self.unbound else { return (nil, e) }
    return (entries[e].value, e)
  }

  /// Whether `entry` holds the name `bytes` with `hash`.
  private func matches(_ entry: Entry, _ bytes: UnsafeRawBufferPointer, hash: UInt32) -> Bool {
    guard entry.hash == hash, Int(entry.length) == bytes.count else { return false }
    return arena.withUnsafeBytes { arena in
      UnsafeRawBufferPointer(rebasing: arena[entry.start..<(entry.start + bytes.count)])
        .elementsEqual(bytes)
    }
  }

  /// The filter's two bits for `hash`: word and bit of each.
  private func filterBits(_ hash: UInt32) -> (Int, UInt64, Int, UInt64) {
    let bits = filter.count &* 64 &- 1
    let first = Int(hash) & bits
    let second = Int(hash >> 13 ^ hash &* 0x9E37_79B9) & bits
    return (first >> 6, 1 << UInt64(first & 63), second >> 6, 1 << UInt64(second & 63))
  }

  /// False only when no name with `hash` was ever bound.
  private func mayHold(_ hash: UInt32) -> Bool {
    guard !filter.isEmpty else { return false }
    let (w1, b1, w2, b2) = filterBits(hash)
    return filter[w1] & b1 != 0 && filter[w2] & b2 != 0
  }

  private mutating func addToFilter(_ hash: UInt32) {
    let (w1, b1, w2, b2) = filterBits(hash)
    filter[w1] |= b1
    filter[w2] |= b2
  }

  private mutating func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt32, _ value: Int)
    -> Int?
  {
    if mayHold(hash), let e = entry(of: bytes, hash: hash).entry {
      let previous = entries[e].value
      entries[e].value = value
      return previous == Self.unbound ? nil : previous
    }
    grow(toHold: entries.count + 1)
    guard let slot = entry(of: bytes, hash: hash).slot else { return nil }
    table[slot] = Int32(truncatingIfNeeded: entries.count + 1)
    addToFilter(hash)
    entries.append(
      Entry(start: arena.count, length: UInt32(bytes.count), hash: hash, value: value))
    arena.append(contentsOf: bytes.bindMemory(to: UInt8.self))
    return nil
  }

  /// Grows the table so that `count` names keep it at most half full.
  private mutating func grow(toHold count: Int) {
    guard count > table.count / 2 else { return }
    var capacity = max(16, table.count)
    while count > capacity / 2 { capacity *= 2 }
    table = Array(repeating: 0, count: capacity)
    // Four filter bits a slot, so eight or more a name: about one false "maybe" in twenty
    // lookups of a name never bound.
    filter = Array(repeating: 0, count: max(1, capacity / 16))
    let mask = capacity - 1
    for (e, entry) in entries.enumerated() {
      var i = Int(entry.hash) & mask
      while table[i] != 0 { i = (i + 1) & mask }
      table[i] = Int32(truncatingIfNeeded: e + 1)
      addToFilter(entry.hash)
    }
  }

  /// Moves every binding to `strings`, for names that are not ASCII.
  private mutating func moveToStrings() {
    var strings: [String: Int] = [:]
    strings.reserveCapacity(entries.count)
    arena.withUnsafeBytes { arena in
      for entry in entries where entry.value != Self.unbound {
        let name = UnsafeRawBufferPointer(
          rebasing: arena[entry.start..<(entry.start + Int(entry.length))])
        strings[String(decoding: name, as: UTF8.self)] = entry.value
      }
    }
    self.strings = strings
    table = []
    entries = []
    arena = []
    filter = []
    predicted = 0
  }
}
