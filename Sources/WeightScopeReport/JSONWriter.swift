/// Compact JSON written straight into UTF-8 bytes, members and elements separated as they come.
///
/// Integers are written as integers; strings are escaped as RFC 8259 requires (quote,
/// backslash and control characters) and everything else, non-ASCII included, passes through
/// as UTF-8. ``JSONValue`` writes through it, and large documents (a listing of a hundred
/// thousand tensors) are written with it directly, without building a value for each part.
public struct JSONWriter {
  public private(set) var bytes: [UInt8] = []
  /// Per open object or array, and the top level: whether something was written in it.
  private var written: [Bool] = [false]
  /// A key was just written: the value that follows takes no comma.
  private var afterKey = false

  public init(capacity: Int = 0) {
    bytes.reserveCapacity(capacity)
  }

  /// The text written so far.
  public var text: String { String(decoding: bytes, as: UTF8.self) }

  public mutating func beginObject() {
    separate()
    bytes.append(UInt8(ascii: "{"))
    written.append(false)
  }

  public mutating func endObject() {
    if written.count > 1 { written.removeLast() }
    bytes.append(UInt8(ascii: "}"))
  }

  public mutating func beginArray() {
    separate()
    bytes.append(UInt8(ascii: "["))
    written.append(false)
  }

  public mutating func endArray() {
    if written.count > 1 { written.removeLast() }
    bytes.append(UInt8(ascii: "]"))
  }

  /// A member's key; its value is the next thing written.
  public mutating func key(_ key: String) {
    separate()
    writeString(key)
    bytes.append(UInt8(ascii: ":"))
    afterKey = true
  }

  public mutating func string(_ value: String) {
    separate()
    writeString(value)
  }

  public mutating func int(_ value: Int) {
    separate()
    // Digits from the right into a fixed buffer: 19 digits and a sign fit in 20.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
      var magnitude = value.magnitude
      var position = buffer.count
      repeat {
        position -= 1
        buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
        magnitude /= 10
      } while magnitude > 0
      if value < 0 {
        position -= 1
        buffer[position] = UInt8(ascii: "-")
      }
      bytes.append(contentsOf: buffer[position...])
    }
  }

  public mutating func bool(_ value: Bool) {
    separate()
    bytes.append(contentsOf: value ? Self.trueText : Self.falseText)
  }

  public mutating func null() {
    separate()
    bytes.append(contentsOf: Self.nullText)
  }

  /// `key: value` for the common member kinds.
  public mutating func member(_ key: String, _ value: String) {
    self.key(key)
    string(value)
  }

  public mutating func member(_ key: String, _ value: Int) {
    self.key(key)
    int(value)
  }

  public mutating func member(_ key: String, _ value: Bool) {
    self.key(key)
    bool(value)
  }

  /// `key: [1, 2, 3]`.
  public mutating func member(_ key: String, ints: [Int]) {
    self.key(key)
    beginArray()
    for value in ints { int(value) }
    endArray()
  }

  private static let trueText = Array("true".utf8)
  private static let falseText = Array("false".utf8)
  private static let nullText = Array("null".utf8)
  private static let hexDigits = Array("0123456789abcdef".utf8)

  /// A comma before every element or member but the first, none after a key.
  private mutating func separate() {
    if afterKey {
      afterKey = false
      return
    }
    guard let last = written.indices.last else { return }
    if written[last] {
      bytes.append(UInt8(ascii: ","))
    } else {
      written[last] = true
    }
  }

  /// A JSON string literal: `"`, `\` and U+0000...U+001F escaped, every other byte as is.
  private mutating func writeString(_ text: String) {
    bytes.append(UInt8(ascii: "\""))
    // Most strings (names, dtypes, roles) need no escape: copied whole.
    let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { utf8 in
      guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == 0x5C })
      else { return false }
      bytes.append(contentsOf: utf8)
      return true
    }
    if copied == true {
      bytes.append(UInt8(ascii: "\""))
      return
    }
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
      case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
      case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0..<0x20:
        bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
        bytes.append(Self.hexDigits[Int(byte >> 4)])
        bytes.append(Self.hexDigits[Int(byte & 0xF)])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
