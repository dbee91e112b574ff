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
  /// Offset just past STOP, or nil when the walk stopped first.
  var endOffset: Int?
  /// Why the walk stopped before STOP.
  var error: ReadError?

  /// Walks from `reader`'s position to STOP or the first unreadable opcode.
  init(_ reader: ByteReader, limits: Limits) {
    var r = reader
    // The last two values pushed, as literal strings when they were (nil otherwise).
    var recent: [String?] = []
    var count = 0
    do throws(ReadError) {
      while true {
        let offset = r.position
        count += 1
        guard count <= limits.pickleOpcodes else {
          throw ReadError(.limitExceeded, at: offset, "more than \(limits.pickleOpcodes) opcodes")
        }
        let byte = try r.readUInt8("opcode")
        guard let op = PickleOpcode(rawValue: byte) else {
          throw ReadError(.malformed, at: offset, "unknown opcode \(hex(Int(byte)))")
        }
        var pushed: String?? = .some(nil)
        switch op {
        case .STOP:
          endOffset = r.position
          return
        case .MARK, .POP, .POP_MARK, .BUILD, .APPEND, .APPENDS, .SETITEM, .SETITEMS, .ADDITEMS:
          pushed = nil
          recent.removeAll()
        case .MEMOIZE, .NEXT_BUFFER, .READONLY_BUFFER:
          pushed = nil
        case .PUT:
          _ = try Self.line(&r, limits)
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
        case .PROTO, .BININT1, .EXT1, .BINGET: try r.skip(1)
        case .BININT2, .EXT2: try r.skip(2)
        case .BININT, .EXT4, .LONG_BINGET: try r.skip(4)
        case .BINFLOAT: try r.skip(8)
        case .FLOAT, .INT, .LONG, .PERSID, .GET: _ = try Self.line(&r, limits)
        case .STRING, .UNICODE:
          var text = try Self.line(&r, limits)
          if op == .STRING, text.count >= 2 { text = Array(text[1..<(text.count - 1)]) }
          pushed = .some(String(decoding: text, as: UTF8.self))
        case .GLOBAL, .INST:
          let module = String(decoding: try Self.line(&r, limits), as: UTF8.self)
          let name = String(decoding: try Self.line(&r, limits), as: UTF8.self)
          literals.append(
            LiteralGlobal(
              global: PickleGlobal(module, name), offset: offset,
              route: op == .GLOBAL ? .global : .inst))
        case .SHORT_BINSTRING, .SHORT_BINUNICODE:
          pushed = .some(try Self.text(&r, UInt64(try r.readUInt8("length")), limits))
        case .BINSTRING:
          let length = try r.readInt32("length")
          guard length >= 0 else { throw ReadError(.malformed, at: offset, "negative length") }
          pushed = .some(try Self.text(&r, UInt64(length), limits))
        case .BINUNICODE:
          pushed = .some(try Self.text(&r, UInt64(try r.readUInt32("length")), limits))
        case .BINUNICODE8:
          pushed = .some(try Self.text(&r, try r.readUInt64("length"), limits))
        case .LONG1, .SHORT_BINBYTES:
          try Self.skipBytes(&r, UInt64(try r.readUInt8("length")), limits)
        case .LONG4:
          let length = try r.readInt32("length")
          guard length >= 0 else { throw ReadError(.malformed, at: offset, "negative length") }
          try Self.skipBytes(&r, UInt64(length), limits)
        case .BINBYTES: try Self.skipBytes(&r, UInt64(try r.readUInt32("length")), limits)
        case .BINBYTES8, .BYTEARRAY8: try Self.skipBytes(&r, try r.readUInt64("length"), limits)
        case .STACK_GLOBAL:
          if recent.count == 2, let module = recent[0], let name = recent[1] {
            literals.append(
              LiteralGlobal(global: PickleGlobal(module, name), offset: offset, route: .stackGlobal))
          } else {
            nonLiteralStackGlobals.append(offset)
          }
        case .DUP, .NONE, .REDUCE, .DICT, .EMPTY_DICT, .LIST, .EMPTY_LIST, .OBJ, .TUPLE,
          .EMPTY_TUPLE, .NEWOBJ, .TUPLE1, .TUPLE2, .TUPLE3, .NEWTRUE, .NEWFALSE, .EMPTY_SET,
          .FROZENSET, .NEWOBJ_EX, .BINPERSID:
          break
        }
        if let value = pushed {
          recent.append(value)
          if recent.count > 2 { recent.removeFirst() }
        }
      }
    } catch {
      self.error = error
    }
  }

  private static func line(_ r: inout ByteReader, _ limits: Limits) throws(ReadError) -> [UInt8] {
    let window = min(r.remaining, max(0, limits.pickleStringBytes))
    let bytes = try r.peekBytes(at: r.position, count: window)
    guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
      throw ReadError(.truncated, at: r.position, "line has no newline")
    }
    let line = Array(bytes[..<newline])
    try r.skip(newline + 1)
    return line
  }

  private static func skipBytes(_ r: inout ByteReader, _ length: UInt64, _ limits: Limits)
    throws(ReadError)
  {
    guard length <= UInt64(max(0, limits.pickleStringBytes)), length <= UInt64(r.remaining) else {
      throw ReadError(.truncated, at: r.position, "\(length) bytes, \(r.remaining) left")
    }
    try r.skip(Int(length))
  }

  private static func text(_ r: inout ByteReader, _ length: UInt64, _ limits: Limits)
    throws(ReadError) -> String
  {
    guard length <= UInt64(max(0, limits.pickleStringBytes)), length <= UInt64(r.remaining) else {
      throw ReadError(.truncated, at: r.position, "\(length) bytes, \(r.remaining) left")
    }
    return try r.readString(Int(length))
  }
}
