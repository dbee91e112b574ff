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
  private var stack: [PickleValue] = []
  /// Stack heights at each open MARK.
  private var marks: [Int] = []
  /// The memo: dense indices (what every pickler writes) in an array, others in a dictionary.
  private var memo: [PickleValue?] = []
  private var sparseMemo: [Int: PickleValue] = [:]
  private var memoCount = 0
  private var slots: [Slot] = []
  private var slotOffsets: [Int] = []
  private var lists: [[PickleValue]] = []
  private var dicts: [DictBuilder] = []
  private var objects: [ObjectBuilder] = []
  private var globals: [PickleGlobalUse] = []
  private var protocolVersion = 0
  private var opcodeCount = 0
  private var opcodeOffset = 0
  private var opcode = PickleOpcode.MARK

  /// A node while the pickle runs: immutable ones in place, mutable ones in a side arena that
  /// can be changed in place (APPENDS on a long list stays linear).
  private enum Slot {
    case fixed(PickleNode)
    case list(Int)
    case set(Int)
    case dict(Int)
    case object(Int)
  }

  private struct DictBuilder {
    var entries: [PickleDictEntry] = []
    var index: [PickleValue: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
      // One hash per new key: insert first, and put the old position back for a repeated key.
      if let existing = index.updateValue(entries.count, forKey: key) {
        index[key] = existing
        entries[existing].value = value
      } else {
        entries.append(PickleDictEntry(key: key, value: value))
      }
    }
  }

  private struct ObjectBuilder {
    var object: PickleObject
    var items = DictBuilder()
  }

  private init(reader: ByteReader, limits: Limits) {
    self.reader = reader
    self.limits = limits
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
      guard let next = PickleOpcode(rawValue: byte) else {
        throw ReadError(
          .malformed, at: opcodeOffset,
          "unknown opcode \(printable([byte])) (\(hex(Int(byte))))", context: "opcode")
      }
      opcode = next
      do {
        if let root = try step(next) {
          return PickleDocument(
            root: root, nodes: finishedNodes(), nodeOffsets: slotOffsets, globals: globals,
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
  private mutating func step(_ op: PickleOpcode) throws(ReadError) -> PickleValue? {
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
        try push(value)
      }
    case .LONG:
      var line = try readLine("integer")
      if line.last == UInt8(ascii: "L") { line.removeLast() }
      try checkDigits(line)
      guard let value = PickleText.integer(line) else {
        throw fail(.malformed, "not an integer: \(printable(line))")
      }
      try push(value)
    case .BININT: try push(.int(Int64(try reader.readInt32("value"))))
    case .BININT1: try push(.int(Int64(try reader.readUInt8("value"))))
    case .BININT2: try push(.int(Int64(try reader.readUInt16("value"))))
    case .LONG1:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "integer")
      try push(PickleText.twosComplement(try reader.readBytes(count, "integer")))
    case .LONG4:
      let raw = try reader.readInt32("length")
      let count = try signedLength(raw, "integer")
      try push(PickleText.twosComplement(try reader.readBytes(count, "integer")))
    case .FLOAT:
      let line = try readLine("float")
      guard let value = Double(String(decoding: line, as: UTF8.self)) else {
        throw fail(.malformed, "not a float: \(printable(line))")
      }
      try push(.float(value))
    case .BINFLOAT:
      try push(.float(Double(bitPattern: try reader.readUInt64("value").byteSwapped)))

    // Strings and bytes.
    case .STRING:
      let line = try readLine("string")
      guard line.count >= 2, let quote = line.first, quote == line.last,
        quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"")
      else { throw fail(.malformed, "STRING argument is not quoted: \(printable(line))") }
      let bytes = PickleText.escapeDecoded(line[1..<(line.count - 1)])
      try push(.string(String(decoding: bytes, as: UTF8.self)))
    case .BINSTRING:
      let raw = try reader.readInt32("length")
      let count = try signedLength(raw, "string")
      let text = try reader.readString(count, "string")
      try push(.string(text))
    case .SHORT_BINSTRING:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(.string(text))
    case .UNICODE:
      try push(.string(PickleText.rawUnicodeEscapeDecoded(try readLine("string"))))
    case .BINUNICODE:
      let raw = UInt64(try reader.readUInt32("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(.string(text))
    case .SHORT_BINUNICODE:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(.string(text))
    case .BINUNICODE8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "string")
      let text = try reader.readString(count, "string")
      try push(.string(text))
    case .BINBYTES:
      let raw = UInt64(try reader.readUInt32("length"))
      let count = try length(raw, "bytes")
      try push(.bytes(try reader.readArray(count, "bytes")))
    case .SHORT_BINBYTES:
      let raw = UInt64(try reader.readUInt8("length"))
      let count = try length(raw, "bytes")
      try push(.bytes(try reader.readArray(count, "bytes")))
    case .BINBYTES8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "bytes")
      try push(.bytes(try reader.readArray(count, "bytes")))
    case .BYTEARRAY8:
      let raw = try reader.readUInt64("length")
      let count = try length(raw, "bytearray")
      try push(makeNode(.fixed(.bytearray(try reader.readArray(count, "bytearray")))))
    case .NEXT_BUFFER:
      throw fail(.unsupported, "out-of-band buffer requested, and a file has none")
    case .READONLY_BUFFER:
      _ = try top()

    // Containers.
    case .EMPTY_TUPLE: try push(makeNode(.fixed(.tuple([]))))
    case .TUPLE1:
      let a = try pop()
      try push(makeNode(.fixed(.tuple([a]))))
    case .TUPLE2:
      let b = try pop()
      let a = try pop()
      try push(makeNode(.fixed(.tuple([a, b]))))
    case .TUPLE3:
      let c = try pop()
      let b = try pop()
      let a = try pop()
      try push(makeNode(.fixed(.tuple([a, b, c]))))
    case .TUPLE: try push(makeNode(.fixed(.tuple(try popMark()))))
    case .EMPTY_LIST: try push(makeList([]))
    case .LIST: try push(makeList(try popMark()))
    case .EMPTY_DICT: try push(makeDict([]))
    case .DICT:
      let items = try popMark()
      guard items.count % 2 == 0 else {
        throw fail(.malformed, "odd number of items (\(items.count)) for a dict")
      }
      try push(makeDict(items))
    case .EMPTY_SET: try push(makeSet([]))
    case .FROZENSET: try push(makeNode(.fixed(.frozenset(try popMark()))))
    case .APPEND:
      let value = try pop()
      try append([value], to: try top())
    case .APPENDS:
      let items = try popMark()
      try append(items, to: try top())
    case .ADDITEMS:
      let items = try popMark()
      try append(items, to: try top())
    case .SETITEM:
      let value = try pop()
      let key = try pop()
      try setItems([key, value], on: try top())
    case .SETITEMS:
      let items = try popMark()
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
      guard case .string(let nameText) = name, case .string(let moduleText) = module else {
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
      try push(
        makeObject(PickleObject(callable: callable, arguments: arguments, construction: .reduce)))
    case .NEWOBJ:
      let arguments = try pop()
      let cls = try pop()
      try requireTuple(arguments, "NEWOBJ arguments")
      try push(makeObject(PickleObject(callable: cls, arguments: arguments, construction: .newobj)))
    case .NEWOBJ_EX:
      let keywords = try pop()
      let arguments = try pop()
      let cls = try pop()
      try requireTuple(arguments, "NEWOBJ_EX arguments")
      try push(
        makeObject(
          PickleObject(
            callable: cls, arguments: arguments, keywordArguments: keywords, construction: .newobjEx
          )))
    case .OBJ:
      let items = try popMark()
      guard let cls = items.first else { throw fail(.malformed, "OBJ without a class") }
      let arguments = makeNode(.fixed(.tuple(Array(items.dropFirst()))))
      try push(makeObject(PickleObject(callable: cls, arguments: arguments, construction: .obj)))
    case .INST:
      let module = try readLine("module name")
      let name = try readLine("class name")
      let items = try popMark()
      let cls = recordGlobal(PickleGlobal(text(module), text(name)), route: .inst)
      let arguments = makeNode(.fixed(.tuple(items)))
      try push(makeObject(PickleObject(callable: cls, arguments: arguments, construction: .inst)))
    case .BUILD:
      let state = try pop()
      let target = try top()
      guard case .node(let id) = target, case .object(let index) = slots[id.index] else {
        throw fail(.unsupported, "BUILD on \(kind(target)); only objects made by a call take state")
      }
      objects[index].object.state = state
    case .PERSID:
      let line = try readLine("persistent id")
      try push(makeNode(.fixed(.persistentID(.string(text(line))))))
    case .BINPERSID:
      let pid = try pop()
      try push(makeNode(.fixed(.persistentID(pid))))
    }
    return nil
  }

  // MARK: Stack

  private func fail(_ kind: ReadError.Kind, _ message: String) -> ReadError {
    ReadError(kind, at: opcodeOffset, message, context: "opcode \(opcode.name)")
  }

  private mutating func push(_ value: PickleValue) throws(ReadError) {
    guard stack.count < limits.pickleStackDepth else {
      throw fail(
        .limitExceeded, "stack deeper than \(limits.pickleStackDepth) (Limits.pickleStackDepth)")
    }
    stack.append(value)
  }

  private mutating func pop() throws(ReadError) -> PickleValue {
    guard stack.count > (marks.last ?? 0), let value = stack.popLast() else {
      throw fail(.malformed, marks.isEmpty ? "stack underflow" : "stack underflow (at a MARK)")
    }
    return value
  }

  private func top() throws(ReadError) -> PickleValue {
    guard stack.count > (marks.last ?? 0), let value = stack.last else {
      throw fail(.malformed, marks.isEmpty ? "stack underflow" : "stack underflow (at a MARK)")
    }
    return value
  }

  private mutating func popMark() throws(ReadError) -> [PickleValue] {
    guard let mark = marks.popLast() else { throw fail(.malformed, "no MARK on the stack") }
    guard mark < stack.count else { return [] }
    let items = Array(stack[mark...])
    stack.removeLast(stack.count - mark)
    return items
  }

  // MARK: Arguments

  /// A length from the file, checked against the limit and the bytes left before any allocation.
  private func length(_ value: UInt64, _ what: String) throws(ReadError) -> Int {
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

  private func signedLength(_ value: Int32, _ what: String) throws(ReadError) -> Int {
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
  private func checkDigits(_ line: [UInt8]) throws(ReadError) {
    guard line.count <= 4301 else {
      throw fail(
        .unsupported,
        "decimal integer of \(line.count) characters (Python reads at most 4300 digits)")
    }
  }

  private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  private func decimalIndex(_ line: [UInt8]) throws(ReadError) -> Int {
    guard case .int(let value)? = PickleText.integer(line), value >= 0, value <= Int64(UInt32.max)
    else {
      throw fail(.malformed, "bad memo index \(printable(line))")
    }
    return Int(value)
  }

  private func requireTuple(_ value: PickleValue, _ what: String) throws(ReadError) {
    guard case .node(let id) = value, case .fixed(.tuple) = slots[id.index] else {
      throw fail(.malformed, "\(what) are \(kind(value)), not a tuple")
    }
  }

  /// A short name for the kind of `value`, for messages.
  private func kind(_ value: PickleValue) -> String {
    switch value {
    case .none: return "None"
    case .bool: return "a bool"
    case .int, .bigInt: return "an int"
    case .float: return "a float"
    case .string: return "a str"
    case .bytes: return "bytes"
    case .global(let global, _): return "the global \(global)"
    case .node(let id):
      switch slots[id.index] {
      case .list: return "a list"
      case .set: return "a set"
      case .dict: return "a dict"
      case .object: return "an object"
      case .fixed(.tuple): return "a tuple"
      case .fixed(.frozenset): return "a frozenset"
      case .fixed(.bytearray): return "a bytearray"
      case .fixed(.persistentID): return "a persistent id"
      case .fixed: return "a value"
      }
    }
  }

  // MARK: Memo

  private mutating func memoize(_ index: Int) throws(ReadError) {
    let value = try top()
    // A pattern, not `== nil`: `==` on optional values compares whole values (and their text).
    let isNew: Bool
    if index < memo.count {
      if case .none = memo[index] { isNew = true } else { isNew = false }
    } else {
      isNew = sparseMemo.index(forKey: index) == nil
    }
    if isNew {
      guard memoCount < limits.pickleMemoEntries else {
        throw fail(
          .limitExceeded,
          "more than \(limits.pickleMemoEntries) memo entries (Limits.pickleMemoEntries)")
      }
      memoCount += 1
    }
    if index < memo.count {
      memo[index] = value
    } else if index == memo.count, sparseMemo.isEmpty {
      memo.append(value)
    } else {
      sparseMemo[index] = value
    }
  }

  private func recall(_ index: Int) throws(ReadError) -> PickleValue {
    guard let value = index < memo.count ? memo[index] : sparseMemo[index] else {
      throw fail(.malformed, "memo index \(index) not defined")
    }
    return value
  }

  // MARK: Nodes

  private mutating func makeNode(_ slot: Slot) -> PickleValue {
    slots.append(slot)
    slotOffsets.append(opcodeOffset)
    return .node(PickleNodeID(slots.count - 1))
  }

  private mutating func makeList(_ items: [PickleValue]) -> PickleValue {
    lists.append(items)
    return makeNode(.list(lists.count - 1))
  }

  private mutating func makeSet(_ items: [PickleValue]) -> PickleValue {
    lists.append(items)
    return makeNode(.set(lists.count - 1))
  }

  private mutating func makeDict(_ flat: [PickleValue]) -> PickleValue {
    var builder = DictBuilder()
    var i = 0
    while i + 1 < flat.count {
      builder.set(flat[i], flat[i + 1])
      i += 2
    }
    dicts.append(builder)
    return makeNode(.dict(dicts.count - 1))
  }

  private mutating func makeObject(_ object: PickleObject) -> PickleValue {
    if case .global(_, let use) = object.callable, globals.indices.contains(use) {
      globals[use].called = true
    }
    objects.append(ObjectBuilder(object: object))
    return makeNode(.object(objects.count - 1))
  }

  private mutating func append(_ items: [PickleValue], to target: PickleValue) throws(ReadError) {
    guard case .node(let id) = target else {
      throw fail(.malformed, "cannot add items to \(kind(target))")
    }
    switch slots[id.index] {
    case .list(let index) where opcode != .ADDITEMS, .set(let index) where opcode == .ADDITEMS:
      lists[index].append(contentsOf: items)
    case .object(let index):
      objects[index].object.appended.append(contentsOf: items)
    default:
      throw fail(.malformed, "cannot add items to \(kind(target))")
    }
  }

  private mutating func setItems(_ flat: [PickleValue], on target: PickleValue) throws(ReadError) {
    guard case .node(let id) = target else {
      throw fail(.malformed, "cannot set items on \(kind(target))")
    }
    switch slots[id.index] {
    case .dict(let index):
      var i = 0
      while i + 1 < flat.count {
        dicts[index].set(flat[i], flat[i + 1])
        i += 2
      }
    case .object(let index):
      var i = 0
      while i + 1 < flat.count {
        objects[index].items.set(flat[i], flat[i + 1])
        i += 2
      }
    default:
      throw fail(.malformed, "cannot set items on \(kind(target))")
    }
  }

  private mutating func recordGlobal(_ global: PickleGlobal, route: PickleGlobalRoute)
    -> PickleValue
  {
    globals.append(PickleGlobalUse(global: global, offset: opcodeOffset, route: route))
    return .global(global, use: globals.count - 1)
  }

  private mutating func extensionGlobal(_ code: Int) throws(ReadError) -> PickleValue {
    guard code > 0 else { throw fail(.malformed, "extension code \(code) is not positive") }
    return recordGlobal(PickleGlobal("copyreg._extension_registry", String(code)), route: .ext)
  }

  private mutating func finishedNodes() -> [PickleNode] {
    // The builders are moved out, not copied: the machine ends here.
    var nodes: [PickleNode] = []
    nodes.reserveCapacity(slots.count)  // Bounded by opcodes executed, not by a count in the file.
    var finished: [Slot] = []
    swap(&finished, &slots)
    for i in finished.indices {
      switch finished[i] {
      case .fixed:
        var slot = Slot.fixed(.pending)
        swap(&slot, &finished[i])
        if case .fixed(let node) = slot { nodes.append(node) }
      case .list(let index): nodes.append(.list(Self.take(&lists[index])))
      case .set(let index): nodes.append(.set(Self.take(&lists[index])))
      case .dict(let index): nodes.append(.dict(Self.take(&dicts[index].entries)))
      case .object(let index):
        var object = PickleObject(callable: .none, arguments: .none, construction: .reduce)
        swap(&object, &objects[index].object)
        object.items = Self.take(&objects[index].items.entries)
        nodes.append(.object(object))
      }
    }
    return nodes
  }

  private static func take<Element>(_ array: inout [Element]) -> [Element] {
    var taken: [Element] = []
    swap(&taken, &array)
    return taken
  }
}
