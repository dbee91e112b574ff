import WeightScopeCore
import WeightScopePickle

/// A pass over a pickle's opcodes that decodes arguments but builds nothing.
///
/// It sees what the pickle machine cannot tell: whether `STACK_GLOBAL`'s operands were string
/// literals pushed just before it, and which globals a pickle names before the point where it
/// stops being readable (Python's unpickler would already have imported and called them).
struct PickleOpcodeWalk {
  /// A global named by literal text (`GLOBAL`, `INST`, or `STACK_GLOBAL` after two strings).
  struct LiteralGlobal: Equatable {
    var global: PickleGlobal
    var offset: Int
    var route: PickleGlobalRoute
  }

  var literals: [LiteralGlobal] = []
  /// Offsets of `STACK_GLOBAL` opcodes whose operands were not both string literals.
  var nonLiteralStackGlobals: [Int] = []
  /// Whether the pickle uses an opcode whose global or value the walk cannot follow
  /// (`EXT1/2/4`, `NEXT_BUFFER`).
  var opaque = false
  /// Offset just past STOP, or nil when the walk stopped first.
  var endOffset: Int?
  /// Why the walk stopped before STOP.
  var error: ReadError?

  /// Walks from `reader`'s position to STOP or the first unreadable opcode.
  init(_ reader: ByteReader, limits: Limits) {
    guard var r = WalkCursor(reader) else {
      error = ReadError(.truncated, at: reader.position, "pickle bytes are unreadable")
      return
    }
    // The last two values pushed, as the byte ranges of literal strings when they were (nil
    // otherwise); decoded only when STACK_GLOBAL takes them.
    var recent = RecentLiterals()
    var count = 0
    do throws(ReadError) {
      while true {
        let offset = r.position
        count += 1
        guard count <= limits.pickleOpcodes else {
          throw ReadError(.limitExceeded, at: offset, "more than \(limits.pickleOpcodes) opcodes")
        }
        let byte = try r.readUInt8()
        guard let op = PickleOpcode(rawValue: byte) else {
          throw ReadError(.malformed, at: offset, "unknown opcode \(hex(Int(byte)))")
        }
        var pushed: Range<Int>?? = .some(nil)
        switch op {
        case .STOP:
          endOffset = r.position
          return
        case .MARK, .POP, .POP_MARK, .BUILD, .APPEND, .APPENDS, .SETITEM, .SETITEMS, .ADDITEMS:
          pushed = nil
          recent.removeAll()
        case .MEMOIZE, .READONLY_BUFFER:
          pushed = nil
        case .NEXT_BUFFER:
          opaque = true
          pushed = nil
        case .PUT:
          _ = try Self.lineRange(&r, limits)
          pushed = nil
        case .BINPUT:
          try r.skip(1)
          pushed = nil
        case .LONG_BINPUT:
          try r.skip(4)
          pushed = nil
        case .FRAME:
          try r.skip(8)
          pushed = nil
        case .PROTO, .BININT1, .BINGET: try r.skip(1)
        case .BININT2: try r.skip(2)
        case .BININT, .LONG_BINGET: try r.skip(4)
        case .EXT1, .EXT2, .EXT4:
          opaque = true
          try r.skip(op == .EXT1 ? 1 : op == .EXT2 ? 2 : 4)
        case .BINFLOAT: try r.skip(8)
        case .FLOAT, .INT, .LONG, .PERSID, .GET: _ = try Self.lineRange(&r, limits)
        case .STRING, .UNICODE:
          var text = try Self.lineRange(&r, limits)
          if op == .STRING, text.count >= 2 { text = (text.lowerBound + 1)..<(text.upperBound - 1) }
          pushed = .some(text)
        case .GLOBAL, .INST:
          let module = String(decoding: try Self.line(&r, limits), as: UTF8.self)
          let name = String(decoding: try Self.line(&r, limits), as: UTF8.self)
          literals.append(
            LiteralGlobal(
              global: PickleGlobal(module, name), offset: offset,
              route: op == .GLOBAL ? .global : .inst))
        case .SHORT_BINSTRING, .SHORT_BINUNICODE:
          pushed = .some(try Self.text(&r, UInt64(try r.readUInt8()), limits))
        case .BINSTRING:
          let length = try r.read(Int32.self)
          guard length >= 0 else { throw ReadError(.malformed, at: offset, "negative length") }
          pushed = .some(try Self.text(&r, UInt64(length), limits))
        case .BINUNICODE:
          pushed = .some(try Self.text(&r, UInt64(try r.read(UInt32.self)), limits))
        case .BINUNICODE8:
          pushed = .some(try Self.text(&r, try r.read(UInt64.self), limits))
        case .LONG1, .SHORT_BINBYTES:
          try Self.skipBytes(&r, UInt64(try r.readUInt8()), limits)
        case .LONG4:
          let length = try r.read(Int32.self)
          guard length >= 0 else { throw ReadError(.malformed, at: offset, "negative length") }
          try Self.skipBytes(&r, UInt64(length), limits)
        case .BINBYTES: try Self.skipBytes(&r, UInt64(try r.read(UInt32.self)), limits)
        case .BINBYTES8, .BYTEARRAY8: try Self.skipBytes(&r, try r.read(UInt64.self), limits)
        case .STACK_GLOBAL:
          if recent.count == 2, let module = recent.older, let name = recent.newer {
            let global = PickleGlobal(try Self.decode(r, module), try Self.decode(r, name))
            literals.append(LiteralGlobal(global: global, offset: offset, route: .stackGlobal))
          } else {
            nonLiteralStackGlobals.append(offset)
          }
        case .DUP, .NONE, .REDUCE, .DICT, .EMPTY_DICT, .LIST, .EMPTY_LIST, .OBJ, .TUPLE,
          .EMPTY_TUPLE, .NEWOBJ, .TUPLE1, .TUPLE2, .TUPLE3, .NEWTRUE, .NEWFALSE, .EMPTY_SET,
          .FROZENSET, .NEWOBJ_EX, .BINPERSID:
          break
        }
        if let value = pushed { recent.push(value) }
      }
    } catch {
      self.error = error
    }
  }

  /// The last two values pushed: a byte range for a string literal, nil for anything else.
  private struct RecentLiterals {
    var older: Range<Int>?
    var newer: Range<Int>?
    /// How many of the two slots hold a pushed value (0, 1 or 2).
    var count = 0

    mutating func push(_ value: Range<Int>?) {
      older = newer
      newer = value
      count = min(count + 1, 2)
    }

    mutating func removeAll() { count = 0 }
  }

  /// The bytes of a line, without its newline.
  private static func line(_ r: inout WalkCursor, _ limits: Limits) throws(ReadError) -> [UInt8] {
    let range = try lineRange(&r, limits)
    return Array(try r.peekBytes(at: range.lowerBound, count: range.count))
  }

  /// The absolute range of a line, without its newline; the reader moves past the newline.
  private static func lineRange(_ r: inout WalkCursor, _ limits: Limits) throws(ReadError)
    -> Range<Int>
  {
    let window = min(r.remaining, max(0, limits.pickleStringBytes))
    let bytes = try r.peekBytes(at: r.position, count: window)
    guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
      throw ReadError(.truncated, at: r.position, "line has no newline")
    }
    let start = r.position
    try r.skip(newline + 1)
    return start..<(start + newline)
  }

  /// The UTF-8 text of an absolute byte range the walk has passed.
  private static func decode(_ r: WalkCursor, _ range: Range<Int>) throws(ReadError) -> String {
    String(decoding: try r.peekBytes(at: range.lowerBound, count: range.count), as: UTF8.self)
  }

  private static func skipBytes(_ r: inout WalkCursor, _ length: UInt64, _ limits: Limits)
    throws(ReadError)
  {
    guard length <= UInt64(max(0, limits.pickleStringBytes)), length <= UInt64(r.remaining) else {
      throw ReadError(.truncated, at: r.position, "\(length) bytes, \(r.remaining) left")
    }
    try r.skip(Int(length))
  }

  /// Skips a counted string and returns its absolute byte range.
  private static func text(_ r: inout WalkCursor, _ length: UInt64, _ limits: Limits)
    throws(ReadError) -> Range<Int>
  {
    guard length <= UInt64(max(0, limits.pickleStringBytes)), length <= UInt64(r.remaining) else {
      throw ReadError(.truncated, at: r.position, "\(length) bytes, \(r.remaining) left")
    }
    let start = r.position
    try r.skip(Int(length))
    return start..<(start + Int(length))
  }
}

/// A cursor over a pickle's bytes with absolute offsets, as ``ByteReader`` has, whose reads the
/// compiler inlines: the walk reads every opcode of a checkpoint's pickle.
struct WalkCursor {
  private let window: UnsafeRawBufferPointer
  private let base: Int
  private(set) var position: Int

  /// A cursor over `reader`'s bytes from its position to its end; nil when they are not there.
  init?(_ reader: ByteReader) {
    guard let window = try? reader.peekBytes(at: reader.position, count: reader.remaining)
    else { return nil }
    self.window = window
    base = reader.position
    position = reader.position
  }

  var remaining: Int { base + window.count - position }

  private func need(_ count: Int) throws(ReadError) {
    guard count >= 0, count <= remaining else {
      throw ReadError(
        .truncated, at: position, "needs \(count) bytes, \(max(0, remaining)) left")
    }
  }

  mutating func readUInt8() throws(ReadError) -> UInt8 {
    try need(1)
    defer { position += 1 }
    return window[position - base]
  }

  /// A little-endian integer.
  mutating func read<T: FixedWidthInteger>(_: T.Type) throws(ReadError) -> T {
    try need(MemoryLayout<T>.size)
    defer { position += MemoryLayout<T>.size }
    return T(littleEndian: window.loadUnaligned(fromByteOffset: position - base, as: T.self))
  }

  mutating func skip(_ count: Int) throws(ReadError) {
    try need(count)
    position += count
  }

  /// The bytes `offset..<offset+count`, which must lie in the cursor's window.
  func peekBytes(at offset: Int, count: Int) throws(ReadError) -> UnsafeRawBufferPointer {
    guard count >= 0, offset >= base, count <= base + window.count - offset else {
      throw ReadError(.truncated, at: offset, "needs \(count) bytes")
    }
    return UnsafeRawBufferPointer(rebasing: window[(offset - base)..<(offset - base + count)])
  }
}
