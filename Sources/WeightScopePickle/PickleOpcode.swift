/// The pickle opcodes, protocols 0 to 5, named as Python's `pickletools` names them.
///
/// See https://docs.python.org/3/library/pickletools.html and `Lib/pickletools.py`.
public enum PickleOpcode: UInt8, Sendable, CaseIterable {
  // Protocol 0 and 1.
  case MARK = 0x28  // (
  case STOP = 0x2e  // .
  case POP = 0x30  // 0
  case POP_MARK = 0x31  // 1
  case DUP = 0x32  // 2
  case FLOAT = 0x46  // F
  case INT = 0x49  // I
  case BININT = 0x4a  // J
  case BININT1 = 0x4b  // K
  case LONG = 0x4c  // L
  case BININT2 = 0x4d  // M
  case NONE = 0x4e  // N
  case PERSID = 0x50  // P
  case BINPERSID = 0x51  // Q
  case REDUCE = 0x52  // R
  case STRING = 0x53  // S
  case BINSTRING = 0x54  // T
  case SHORT_BINSTRING = 0x55  // U
  case UNICODE = 0x56  // V
  case BINUNICODE = 0x58  // X
  case APPEND = 0x61  // a
  case BUILD = 0x62  // b
  case GLOBAL = 0x63  // c
  case DICT = 0x64  // d
  case EMPTY_DICT = 0x7d  // }
  case APPENDS = 0x65  // e
  case GET = 0x67  // g
  case BINGET = 0x68  // h
  case INST = 0x69  // i
  case LONG_BINGET = 0x6a  // j
  case LIST = 0x6c  // l
  case EMPTY_LIST = 0x5d  // ]
  case OBJ = 0x6f  // o
  case PUT = 0x70  // p
  case BINPUT = 0x71  // q
  case LONG_BINPUT = 0x72  // r
  case SETITEM = 0x73  // s
  case TUPLE = 0x74  // t
  case EMPTY_TUPLE = 0x29  // )
  case SETITEMS = 0x75  // u
  case BINFLOAT = 0x47  // G
  // Protocol 2.
  case PROTO = 0x80
  case NEWOBJ = 0x81
  case EXT1 = 0x82
  case EXT2 = 0x83
  case EXT4 = 0x84
  case TUPLE1 = 0x85
  case TUPLE2 = 0x86
  case TUPLE3 = 0x87
  case NEWTRUE = 0x88
  case NEWFALSE = 0x89
  case LONG1 = 0x8a
  case LONG4 = 0x8b
  // Protocol 3.
  case BINBYTES = 0x42  // B
  case SHORT_BINBYTES = 0x43  // C
  // Protocol 4.
  case SHORT_BINUNICODE = 0x8c
  case BINUNICODE8 = 0x8d
  case BINBYTES8 = 0x8e
  case EMPTY_SET = 0x8f
  case ADDITEMS = 0x90
  case FROZENSET = 0x91
  case NEWOBJ_EX = 0x92
  case STACK_GLOBAL = 0x93
  case MEMOIZE = 0x94
  case FRAME = 0x95
  // Protocol 5.
  case BYTEARRAY8 = 0x96
  case NEXT_BUFFER = 0x97
  case READONLY_BUFFER = 0x98

  /// The `pickletools` name.
  public var name: String { "\(self)" }
}

extension PickleOpcode {
  /// Every byte's opcode, or nil: one load instead of the compiler's search over the raw values,
  /// for the millions of opcodes a large checkpoint runs. A machine keeps its own reference, so
  /// that those lookups skip the check that this static is made.
  static let byByte: [PickleOpcode?] = (0...255).map { PickleOpcode(rawValue: UInt8($0)) }
}
