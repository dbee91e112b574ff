import WeightScopeCore

/// A pickle virtual machine that runs no code: it only describes what a pickle would build.
///
/// Globals stay names, calls stay ``PickleObject`` descriptions, persistent ids stay values.
/// Every count is bounded by ``Limits`` and every length is checked before anything is
/// allocated, so a hostile pickle fails with a ``ReadError`` instead of costing memory or time.
/// Opcodes follow `Lib/pickletools.py` and `Lib/pickle.py` (`_Unpickler`), protocols 0 to 5.
public struct PickleMachine {
  /// Runs the pickle that starts at `reader`'s position, up to and including STOP.
  ///
  /// - Throws: ``ReadError`` whose offset is the offset of the failing opcode and whose context
  ///   names it (`opcode BINGET`).
  public static func run(_ reader: ByteReader, limits: Limits = .default) throws(ReadError)
    -> PickleDocument
  {
    var machine = PickleMachine(reader: reader, limits: limits)
    return try machine.execute()
  }

  private var reader: ByteReader
  private let limits: Limits
  private let stack: PlainBuffer<Item>
  /// Stack heights at each open MARK.
  private var marks: [Int] = []
  /// The memo: dense indices (what every pickler writes) in a buffer, others in a dictionary.
  private let memo: PlainBuffer<Item>
  private var sparseMemo: [Int: Item] = [:]
  private var memoCount = 0
  /// Scalars that carry storage (str, bytes, big ints, globals), made once and referred to by
  /// index, so that the stack and the memo hold only plain words.
  private var pool: [PickleValue] = []
  /// The items of every tuple, one after another; a tuple slot names its range.
  private let tupleItems: PlainBuffer<Item>
  private let slots: PlainBuffer<Slot>
  private let slotOffsets: PlainBuffer<Int>
  private var bytearrays: [[UInt8]] = []
  /// Lists, sets and frozensets: their items change while the pickle runs.
  private var lists: [[Item]] = []
  private var dicts: [DictBuilder] = []
  /// Calls, in the store's own form; their appended and set items are ranged at the end.
  private var objects: [PickleStore.Object] = []
  /// Index into `objectItems` of the objects that APPEND or SETITEM added something to.
  private var objectExtras: [Int: Int] = [:]
  private var globals: [PickleGlobalUse] = []
  private var protocolVersion = 0
  private var opcodeCount = 0
  private var opcodeOffset = 0
  private var opcode = PickleOpcode.MARK
  /// ``PickleOpcode/byByte``.
  private let opcodes = PickleOpcode.byByte

  private typealias Item = PickleItem

  /// A node while the pickle runs, in the store's own form: tuples and persistent ids as a
  /// range of `tupleItems`, bytearrays by index; the mutable kinds (lists, sets, frozensets,
  /// dicts, objects) hold the index of their builder, which can change in place (APPENDS on a
  /// long list stays linear), until the store is made.
  private typealias Slot = PickleStore.Node

  /// A dict's keys and values (alternating) as SETITEM/SETITEMS set them, with each key's hash.
  private struct DictBuilder {
    /// Keys and values as set, repeated keys included until ``finished(_:)``.
    var entries: [Item] = []
    /// The hash of each key set, in order.
    var hashes: [UInt64] = []

    mutating func set(_ key: Item, _ value: Item, _ pool: [PickleValue]) {
      hashes.append(PickleKeyIndex.hash(key.value(pool)))
      entries.append(key)
      entries.append(value)
    }

    /// The entries as Python's dict holds them: a repeated key keeps its first place and takes
    /// the last value. Keys are compared only when two hashes are equal, which sorting the
    /// hashes finds without the random memory access of a hash table.
    func finished(_ pool: [PickleValue]) -> [Item] {
      guard hashes.count > 1, PickleKeyIndex.hasRepeats(hashes) else { return entries }
      var index = PickleKeyIndex()
      var result: [Item] = []
      result.reserveCapacity(entries.count)  // At most the entries already set.
      var i = 0
      while i + 1 < entries.count {
        let keyValue = entries[i].value(pool)
        let existing = index.insert(keyValue) { result[2 * $0].value(pool) == keyValue }
        if let existing {
          result[2 * existing + 1] = entries[i + 1]
        } else {
          result.append(entries[i])
          result.append(entries[i + 1])
        }
        i += 2
      }
      return result
    }
  }

  /// What APPEND/APPENDS and SETITEM/SETITEMS added to an object, and NEWOBJ_EX's keyword
  /// arguments: most objects get nothing.
  private struct ObjectItems {
    var keywordArguments = Item.absent
    var appended: [Item] = []
    var items = DictBuilder()
  }

  private var objectItems: [ObjectItems] = []

  private init(reader: ByteReader, limits: Limits) {
    self.reader = reader
    self.limits = limits
    // Room from the pickle's own size (never from a count it declares), at the densities a
    // `torch.save` pickle has: growing arrays of millions of items by doubling would copy each
    // into fresh pages several times. Capped, so that a huge pickle reserves a bounded amount.
    let bytes = min(reader.remaining, 1 << 26)
    stack = PlainBuffer(capacity: 64)
    tupleItems = PlainBuffer(capacity: bytes / 6)
    slots = PlainBuffer(capacity: bytes / 10)
    slotOffsets = PlainBuffer(capacity: bytes / 10)
    memo = PlainBuffer(capacity: bytes / 10)
    pool.reserveCapacity(bytes / 40)
    objects.reserveCapacity(bytes / 40)
  }

  // MARK: Running

  private mutating func execute() throws(ReadError) -> PickleDocument {
    while true {
      opcodeOffset = reader.position
      guard !reader.isAtEnd else {
        throw ReadError(.truncated, at: opcodeOffset, "pickle ends without STOP", context: "opcode")
      }
      opcodeCount += 1
      guard opcodeCount <= limits.pickleOpcodes else {
        throw ReadError(
          .limitExceeded, at: opcodeOffset,
          "more than \(limits.pickleOpcodes) opcodes (Limits.pickleOpcodes)", context: "opcode")
      }
      let byte = try reader.readUInt8("opcode")
      guard let next = opcodes[Int(byte)] else {
        throw ReadError(
          .malformed, at: opcodeOffset,
          "unknown opcode \(printable([byte])) (\(hex(Int(byte))))", context: "opcode")
      }
      opcode = next
      do {
        if let root = try step(next) {
          let rootValue = value(root)
          return PickleDocument(
            root: rootValue, store: finishedStore(), globals: globals,
            protocolVersion: protocolVersion, endOffset: reader.position, opcodeCount: opcodeCount)
        }
      } catch {
        var located = error
        if located.context.isEmpty {
          located.context = "opcode \(next.name)"
          located.offset = opcodeOffset
        }
        throw located
      }
    }
  }

  /// Executes one opcode; returns the result at STOP.
  private mutating func step(_ op: PickleOpcode) throws(ReadError) -> Item? {
    switch op {
    case .PROTO:
      let version = Int(try reader.readUInt8("protocol"))
      guard version <= 5 else { throw fail(.unsupported, "protocol \(version) (0 to 5 are read)") }
      protocolVersion = version
    case .FRAME:
      let size = try reader.readUInt64("frame size")
      guard size <= UInt64(reader.remaining) else {
        throw fail(.truncated, "frame of \(size) bytes, \(reader.remaining) left")
      }
    case .STOP:
      return try pop()

    // Marks and stack.
    case .MARK:
      guard marks.count < limits.pickleMarkDepth else {
        throw fail(
          .limitExceeded, "more than \(limits.pickleMarkDepth) open marks (Limits.pickleMarkDepth)")
      }
      marks.append(stack.count)
    case .POP:
      if let mark = marks.last, stack.count == mark {
        marks.removeLast()
      } else {
        _ = try pop()
      }
    case .POP_MARK:
      _ = try popMark()
    case .DUP:
      try push(try top())

    // Constants and numbers.
    case .NONE: try push(.none)
    case .NEWTRUE: try push(.bool(true))
    case .NEWFALSE: try push(.bool(false))
    case .INT:
      let line = try readLine("integer")
      try checkDigits(line)
      if line == Array("00".utf8) || line == Array("01".utf8) {
        try push(.bool(line[1] == UInt8(ascii: "1")))
      } else {
        guard let value = PickleText.integer(line) else {
          throw fail(.malformed, "not an integer: \(printable(line))")
        }
        try push(item(value))
      }
    case .LONG:
      var line = try readLine("integer")
      if line.last == UInt8(ascii: "L") { line.removeLast() }
      try checkDigits(line)
      guard let value = PickleText.integer(line) else {
        throw fail(.malformed, "not an integer: \(printable(line))")
      }
      try push(item(value))
    case .BININT: try push(.smallInt(Int64(try reader.readInt32("value"))))
    case .BININT1: try push(.smallInt(Int64(try reader.readUInt8("value"))))
    case .BININT2: try push(.smallInt(Int64(try reader.readUInt16("value"))))
    case .LONG1:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "integer")
      try push(item(PickleText.twosComplement(try reader.readBytes(count, "integer"))))
    case .LONG4:
      let raw = try reader.readInt32("length")
      let count = try signedLength(raw, "integer")
      try push(item(PickleText.twosComplement(try reader.readBytes(count, "integer"))))
    case .FLOAT:
      let line = try readLine("float")
      guard let value = Double(String(decoding: line, as: UTF8.self)) else {
        throw fail(.malformed, "not a float: \(printable(line))")
      }
      try push(pooled(.float(value)))
    case .BINFLOAT:
      try push(pooled(.float(Double(bitPattern: try reader.readUInt64("value").byteSwapped))))

    // Strings and bytes.
    case .STRING:
      let line = try readLine("string")
      guard line.count >= 2, let quote = line.first, quote == line.last,
        quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"")
      else { throw fail(.malformed, "STRING argument is not quoted: \(printable(line))") }
      let bytes = PickleText.escapeDecoded(line[1..<(line.count - 1)])
      try push(pooled(.string(String(decoding: bytes, as: UTF8.self))))
    case .BINSTRING:
      let raw = try reader.readInt32("length")
      let count = try signedLength(raw, "string")
      let text = try reader.readString(count, "string")
      try push(pooled(.string(text)))
    case .SHORT_BINSTRING:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(pooled(.string(text)))
    case .UNICODE:
      try push(pooled(.string(PickleText.rawUnicodeEscapeDecoded(try readLine("string")))))
    case .BINUNICODE:
      let raw = UInt64(try reader.readUInt32("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(pooled(.string(text)))
    case .SHORT_BINUNICODE:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(pooled(.string(text)))
    case .BINUNICODE8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(pooled(.string(text)))
    case .BINBYTES:
      let raw = UInt64(try reader.readUInt32("length"))
      let count = try length(raw, "bytes")
      try push(pooled(.bytes(try reader.readArray(count, "bytes"))))
    case .SHORT_BINBYTES:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "bytes")
      try push(pooled(.bytes(try reader.readArray(count, "bytes"))))
    case .BINBYTES8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "bytes")
      try push(pooled(.bytes(try reader.readArray(count, "bytes"))))
    case .BYTEARRAY8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "bytearray")
      bytearrays.append(try reader.readArray(count, "bytearray"))
      try push(makeNode(.bytearray, bytearrays.count - 1))
    case .NEXT_BUFFER:
      throw fail(.unsupported, "out-of-band buffer requested, and a file has none")
    case .READONLY_BUFFER:
      _ = try top()

    // Containers.
    case .EMPTY_TUPLE: try push(makeTuple(popping: 0))
    case .TUPLE1: try push(makeTuple(popping: 1))
    case .TUPLE2: try push(makeTuple(popping: 2))
    case .TUPLE3: try push(makeTuple(popping: 3))
    case .TUPLE:
      let start = try popMark()
      try push(makeTuple(from: start))
    case .EMPTY_LIST: try push(makeList([]))
    case .LIST: try push(makeList(Array(try popMarkItems())))
    case .EMPTY_DICT: try push(makeDict([]))
    case .DICT:
      let items = try popMarkItems()
      guard items.count % 2 == 0 else {
        throw fail(.malformed, "odd number of items (\(items.count)) for a dict")
      }
      try push(makeDict(items))
    case .EMPTY_SET: try push(makeSet([]))
    case .FROZENSET:
      lists.append(try popMarkItems())
      try push(makeNode(.frozenset, lists.count - 1))
    case .APPEND:
      let value = try pop()
      try append(CollectionOfOne(value), to: try top())
    case .APPENDS:
      let items = try popMarkItems()
      try append(items, to: try top())
    case .ADDITEMS:
      let items = try popMarkItems()
      try append(items, to: try top())
    case .SETITEM:
      let value = try pop()
      let key = try pop()
      try setItems([key, value], on: try top())
    case .SETITEMS:
      let items = try popMarkItems()
      guard items.count % 2 == 0 else {
        throw fail(.malformed, "odd number of items (\(items.count)) for SETITEMS")
      }
      try setItems(items, on: try top())

    // Memo.
    case .PUT:
      let line = try readLine("memo index")
      try memoize(try decimalIndex(line))
    case .BINPUT: try memoize(Int(try reader.readUInt8("memo index")))
    case .LONG_BINPUT: try memoize(Int(try reader.readUInt32("memo index")))
    case .MEMOIZE: try memoize(memoCount)
    case .GET:
      let line = try readLine("memo index")
      try push(try recall(try decimalIndex(line)))
    case .BINGET:
      let index = Int(try reader.readUInt8("memo index"))
      try push(try recall(index))
    case .LONG_BINGET:
      let index = Int(try reader.readUInt32("memo index"))
      try push(try recall(index))

    // Globals, calls and persistent ids.
    case .GLOBAL:
      let module = try readLine("module name")
      let name = try readLine("global name")
      try push(recordGlobal(PickleGlobal(text(module), text(name)), route: .global))
    case .STACK_GLOBAL:
      let name = try pop()
      let module = try pop()
      guard case .string(let nameText) = value(name), case .string(let moduleText) = value(module)
      else {
        throw fail(.malformed, "module and name are not strings")
      }
      try push(recordGlobal(PickleGlobal(moduleText, nameText), route: .stackGlobal))
    case .EXT1: try push(try extensionGlobal(Int(try reader.readUInt8("extension code"))))
    case .EXT2: try push(try extensionGlobal(Int(try reader.readUInt16("extension code"))))
    case .EXT4: try push(try extensionGlobal(Int(try reader.readInt32("extension code"))))
    case .REDUCE:
      let arguments = try pop()
      let callable = try pop()
      try requireTuple(arguments, "REDUCE arguments")
      try push(makeObject(callable: callable, arguments: arguments, construction: .reduce))
    case .NEWOBJ:
      let arguments = try pop()
      let cls = try pop()
      try requireTuple(arguments, "NEWOBJ arguments")
      try push(makeObject(callable: cls, arguments: arguments, construction: .newobj))
    case .NEWOBJ_EX:
      let keywords = try pop()
      let arguments = try pop()
      let cls = try pop()
      try requireTuple(arguments, "NEWOBJ_EX arguments")
      try push(
        makeObject(
          callable: cls, arguments: arguments, keywordArguments: keywords, construction: .newobjEx))
    case .OBJ:
      let start = try popMark()
      guard start < stack.count else { throw fail(.malformed, "OBJ without a class") }
      let cls = stack[start]
      let arguments = makeTuple(from: start + 1)
      _ = stack.popLast()
      try push(makeObject(callable: cls, arguments: arguments, construction: .obj))
    case .INST:
      let module = try readLine("module name")
      let name = try readLine("class name")
      let start = try popMark()
      let cls = recordGlobal(PickleGlobal(text(module), text(name)), route: .inst)
      let arguments = makeTuple(from: start)
      try push(makeObject(callable: cls, arguments: arguments, construction: .inst))
    case .BUILD:
      let state = try pop()
      let target = try top()
      guard target.tag == .node, slots[target.index].kind == .object else {
        throw fail(.unsupported, "BUILD on \(kind(target)); only objects made by a call take state")
      }
      objects[slots[target.index].start].state = state
    case .PERSID:
      let line = try readLine("persistent id")
      try push(makePersistentID(pooled(.string(text(line)))))
    case .BINPERSID:
      try push(makePersistentID(try pop()))
    }
    return nil
  }

  // MARK: Stack

  private func fail(_ kind: ReadError.Kind, _ message: String) -> ReadError {
    ReadError(kind, at: opcodeOffset, message, context: "opcode \(opcode.name)")
  }

  @inline(__always)
  private mutating func push(_ value: Item) throws(ReadError) {
    guard stack.count < limits.pickleStackDepth else {
      throw fail(
        .limitExceeded, "stack deeper than \(limits.pickleStackDepth) (Limits.pickleStackDepth)")
    }
    stack.append(value)
  }

  @inline(__always)
  private mutating func pop() throws(ReadError) -> Item {
    guard stack.count > (marks.last ?? 0), let value = stack.popLast() else {
      throw fail(.malformed, marks.isEmpty ? "stack underflow" : "stack underflow (at a MARK)")
    }
    return value
  }

  @inline(__always)
  private mutating func top() throws(ReadError) -> Item {
    guard stack.count > (marks.last ?? 0), let value = stack.last else {
      throw fail(.malformed, marks.isEmpty ? "stack underflow" : "stack underflow (at a MARK)")
    }
    return value
  }

  /// Closes the last MARK and returns the stack height it recorded; the items above it stay
  /// on the stack for the caller to take.
  @inline(__always)
  private mutating func popMark() throws(ReadError) -> Int {
    guard let mark = marks.popLast() else { throw fail(.malformed, "no MARK on the stack") }
    return min(mark, stack.count)
  }

  /// Closes the last MARK and takes the items above it off the stack.
  private mutating func popMarkItems() throws(ReadError) -> [Item] {
    let start = try popMark()
    guard start < stack.count else { return [] }
    let items = stack.array(start..<stack.count)
    stack.truncate(to: start)
    return items
  }

  // MARK: Arguments

  /// A length from the file, checked against the limit and the bytes left before any allocation.
  private mutating func length(_ value: UInt64, _ what: String) throws(ReadError) -> Int {
    guard value <= UInt64(max(0, limits.pickleStringBytes)) else {
      throw fail(
        .limitExceeded,
        "\(what) of \(value) bytes is over \(limits.pickleStringBytes) (Limits.pickleStringBytes)")
    }
    let count = Int(value)
    guard count <= reader.remaining else {
      throw fail(.truncated, "\(what) of \(count) bytes, \(reader.remaining) left")
    }
    return count
  }

  private mutating func signedLength(_ value: Int32, _ what: String) throws(ReadError) -> Int {
    guard value >= 0 else { throw fail(.malformed, "negative \(what) length \(value)") }
    return try length(UInt64(value), what)
  }

  /// The bytes up to the next newline (consumed, not returned).
  private mutating func readLine(_ what: String) throws(ReadError) -> [UInt8] {
    let window = min(reader.remaining, max(0, limits.pickleStringBytes) &+ 1)
    let bytes = try reader.peekBytes(at: reader.position, count: window, what)
    guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
      if window < reader.remaining {
        throw fail(
          .limitExceeded,
          "\(what) line longer than \(limits.pickleStringBytes) bytes (Limits.pickleStringBytes)")
      }
      throw fail(.truncated, "\(what) line has no newline")
    }
    let line = Array(bytes[..<newline])
    try reader.skip(newline + 1, what)
    return line
  }

  /// Decimal integers longer than Python's own limit (4300 digits) are refused: converting
  /// them costs time quadratic in their length.
  private mutating func checkDigits(_ line: [UInt8]) throws(ReadError) {
    guard line.count <= 4301 else {
      throw fail(
        .unsupported,
        "decimal integer of \(line.count) characters (Python reads at most 4300 digits)")
    }
  }

  private mutating func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  private mutating func decimalIndex(_ line: [UInt8]) throws(ReadError) -> Int {
    guard case .int(let value)? = PickleText.integer(line), value >= 0, value <= Int64(UInt32.max)
    else {
      throw fail(.malformed, "bad memo index \(printable(line))")
    }
    return Int(value)
  }

  private mutating func requireTuple(_ value: Item, _ what: String) throws(ReadError) {
    guard value.tag == .node, slots[value.index].kind == .tuple else {
      throw fail(.malformed, "\(what) are \(kind(value)), not a tuple")
    }
  }

  /// A short name for the kind of `value`, for messages.
  private func kind(_ item: Item) -> String {
    if item.tag == .node {
      switch slots[item.index].kind {
      case .list: return "a list"
      case .set: return "a set"
      case .dict: return "a dict"
      case .object: return "an object"
      case .tuple: return "a tuple"
      case .persistentID: return "a persistent id"
      case .frozenset: return "a frozenset"
      case .bytearray: return "a bytearray"
      }
    }
    switch value(item) {
    case .none: return "None"
    case .bool: return "a bool"
    case .int, .bigInt: return "an int"
    case .float: return "a float"
    case .string: return "a str"
    case .bytes: return "bytes"
    case .global(let global, _): return "the global \(global)"
    case .node: return "a value"
    }
  }

  // MARK: Memo

  @inline(__always)
  private mutating func memoize(_ index: Int) throws(ReadError) {
    let value = try top()
    // What picklers write: the next dense index.
    if index == memo.count, sparseMemo.isEmpty {
      try countMemoEntry()
      memo.append(value)
      return
    }
    let isNew: Bool
    if index < memo.count {
      isNew = memo[index].tag == .absent
    } else {
      isNew = sparseMemo.isEmpty || sparseMemo.index(forKey: index) == nil
    }
    if isNew { try countMemoEntry() }
    if index < memo.count {
      memo[index] = value
    } else if index == memo.count, sparseMemo.isEmpty {
      memo.append(value)
    } else {
      sparseMemo[index] = value
    }
  }

  @inline(__always)
  private mutating func countMemoEntry() throws(ReadError) {
    guard memoCount < limits.pickleMemoEntries else {
      throw fail(
        .limitExceeded,
        "more than \(limits.pickleMemoEntries) memo entries (Limits.pickleMemoEntries)")
    }
    memoCount += 1
  }

  @inline(__always)
  private mutating func recall(_ index: Int) throws(ReadError) -> Item {
    let value = index < memo.count ? memo[index] : sparseMemo[index] ?? .absent
    guard value.tag != .absent else {
      throw fail(.malformed, "memo index \(index) not defined")
    }
    return value
  }

  // MARK: Nodes

  /// The value an item stands for, as the document holds it.
  private func value(_ item: Item) -> PickleValue { item.value(pool) }

  /// An item for a value read from an integer opcode.
  private mutating func item(_ value: PickleValue) -> Item {
    switch value {
    case .none: return .none
    case .bool(let flag): return .bool(flag)
    case .int(let number) where PickleItem.inlineInts.contains(number): return .smallInt(number)
    case .node(let id): return .node(id.index)
    default: return pooled(value)
    }
  }

  private mutating func pooled(_ value: PickleValue) -> Item {
    pool.append(value)
    return .pooled(pool.count - 1)
  }

  @inline(__always)
  private mutating func makeNode(_ kind: PickleStore.Kind, _ index: Int, count: Int = 0) -> Item {
    slots.append(Slot(kind: kind, start: index, count: count))
    slotOffsets.append(opcodeOffset)
    return .node(slots.count - 1)
  }

  private mutating func makePersistentID(_ pid: Item) -> Item {
    tupleItems.append(pid)
    return makeNode(.persistentID, tupleItems.count - 1, count: 1)
  }

  /// A tuple of the top `count` items, taken off the stack.
  @inline(__always)
  private mutating func makeTuple(popping count: Int) throws(ReadError) -> Item {
    let floor = marks.last ?? 0
    guard stack.count - floor >= count else {
      throw fail(.malformed, marks.isEmpty ? "stack underflow" : "stack underflow (at a MARK)")
    }
    return makeTuple(from: stack.count - count)
  }

  /// A tuple of the items from stack height `start` up, taken off the stack.
  @inline(__always)
  private mutating func makeTuple(from start: Int) -> Item {
    let begin = tupleItems.count
    let top = stack.count
    guard start < top else { return makeNode(.tuple, begin, count: 0) }
    tupleItems.append(from: stack, start..<top)
    stack.truncate(to: start)
    return makeNode(.tuple, begin, count: top - start)
  }

  private mutating func makeList(_ items: [Item]) -> Item {
    lists.append(items)
    return makeNode(.list, lists.count - 1)
  }

  private mutating func makeSet(_ items: [Item]) -> Item {
    lists.append(items)
    return makeNode(.set, lists.count - 1)
  }

  private mutating func makeDict(_ flat: [Item]) -> Item {
    var builder = DictBuilder()
    var i = 0
    while i + 1 < flat.count {
      builder.set(flat[i], flat[i + 1], pool)
      i += 2
    }
    dicts.append(builder)
    return makeNode(.dict, dicts.count - 1)
  }

  private mutating func makeObject(
    callable: Item, arguments: Item, keywordArguments: Item? = nil,
    construction: PickleConstruction
  ) -> Item {
    if callable.tag == .pooled, case .global(_, let use) = pool[callable.index],
      globals.indices.contains(use)
    {
      globals[use].called = true
    }
    objects.append(
      PickleStore.Object(
        callable: callable, arguments: arguments, state: .absent, parts: -1,
        construction: construction))
    if let keywordArguments {
      objectItems[extra(of: objects.count - 1)].keywordArguments = keywordArguments
    }
    return makeNode(.object, objects.count - 1)
  }

  private mutating func append<Items: Collection<Item>>(_ items: Items, to target: Item)
    throws(ReadError)
  {
    guard target.tag == .node else {
      throw fail(.malformed, "cannot add items to \(kind(target))")
    }
    let slot = slots[target.index]
    switch slot.kind {
    case .list where opcode != .ADDITEMS, .set where opcode == .ADDITEMS:
      lists[slot.start].append(contentsOf: items)
    case .object:
      objectItems[extra(of: slot.start)].appended.append(contentsOf: items)
    default:
      throw fail(.malformed, "cannot add items to \(kind(target))")
    }
  }

  /// The index of object `index`'s added items, made on first use.
  private mutating func extra(of index: Int) -> Int {
    if let known = objectExtras[index] { return known }
    objectExtras[index] = objectItems.count
    objectItems.append(ObjectItems())
    return objectItems.count - 1
  }

  private mutating func setItems(_ flat: [Item], on target: Item) throws(ReadError) {
    guard target.tag == .node else {
      throw fail(.malformed, "cannot set items on \(kind(target))")
    }
    let slot = slots[target.index]
    switch slot.kind {
    case .dict:
      var i = 0
      while i + 1 < flat.count {
        dicts[slot.start].set(flat[i], flat[i + 1], pool)
        i += 2
      }
    case .object:
      let extra = extra(of: slot.start)
      var i = 0
      while i + 1 < flat.count {
        objectItems[extra].items.set(flat[i], flat[i + 1], pool)
        i += 2
      }
    default:
      throw fail(.malformed, "cannot set items on \(kind(target))")
    }
  }

  private mutating func recordGlobal(_ global: PickleGlobal, route: PickleGlobalRoute) -> Item {
    globals.append(PickleGlobalUse(global: global, offset: opcodeOffset, route: route))
    return pooled(.global(global, use: globals.count - 1))
  }

  private mutating func extensionGlobal(_ code: Int) throws(ReadError) -> Item {
    guard code > 0 else { throw fail(.malformed, "extension code \(code) is not positive") }
    return recordGlobal(PickleGlobal("copyreg._extension_registry", String(code)), route: .ext)
  }

  /// The finished nodes, flat: tuples keep their items where they are, lists, sets and
  /// objects' parts are appended after them. The builders are moved out: the machine ends here.
  private mutating func finishedStore() -> PickleStore {
    // Tuples' and persistent ids' items stay where they are; the rest follow them.
    let items = tupleItems
    var entries: [Item] = []
    // Room for everything appended below, counted from what the machine holds.
    var moreEntries = 0
    for dict in dicts { moreEntries += dict.entries.count }
    for added in objectItems { moreEntries += added.items.entries.count }
    entries.reserveCapacity(moreEntries)
    let nodes = slots
    func appendItems(_ more: [Item]) -> Range<Int> {
      let start = items.count
      items.append(contentsOf: more)
      return start..<items.count
    }
    func appendEntries(_ more: [Item]) -> Range<Int> {
      let start = entries.count
      entries.append(contentsOf: more)
      return start..<entries.count
    }
    let extras = objectExtras.sorted { $0.key < $1.key }
    var objectParts: [PickleStore.ObjectParts] = []
    objectParts.reserveCapacity(extras.count)  // One per object with extras.
    var nextExtra = 0
    // Tuples, persistent ids and bytearrays are final already; the others get their ranges.
    for position in nodes.indices {
      var node = nodes[position]
      let builder = node.start
      switch node.kind {
      case .tuple, .persistentID, .bytearray:
        continue
      case .list, .set, .frozenset:
        let range = appendItems(lists[builder])
        node.start = range.lowerBound
        node.count = range.count
      case .dict:
        let range = appendEntries(dicts[builder].finished(pool))
        node.start = range.lowerBound
        node.count = range.count / 2
      case .object:
        // Objects come in the order they were made, as do the sorted extras.
        if nextExtra < extras.count, extras[nextExtra].key == builder {
          let extra = extras[nextExtra].value
          objects[builder].parts = objectParts.count
          objectParts.append(
            PickleStore.ObjectParts(
              keywordArguments: objectItems[extra].keywordArguments,
              appended: appendItems(objectItems[extra].appended),
              entries: appendEntries(objectItems[extra].items.finished(pool))))
          nextExtra += 1
        }
      }
      nodes[position] = node
    }
    return PickleStore(
      pool: Self.take(&pool, leaving: []), items: items, entries: entries, nodes: nodes,
      objects: Self.take(&objects, leaving: []), objectParts: objectParts,
      bytearrays: Self.take(&bytearrays, leaving: []), offsets: slotOffsets)
  }

  private static func take<Element>(_ element: inout Element, leaving empty: Element) -> Element {
    var taken = empty
    swap(&taken, &element)
    return taken
  }
}
