/// A JSON value with the place it was written, from a strict RFC 8259 reader.
struct JSONNode: Sendable {
  indirect enum Value: Sendable {
    /// Members in written order; each with the position of its key.
    case object([(key: String, keyPosition: SourcePosition, value: JSONNode)])
    case array([JSONNode])
    case string(String)
    case int(Int)
    case float(Double)
    case bool(Bool)
    case null
  }

  var value: Value
  var position: SourcePosition

  /// What the value is, for messages: `an object`, `a string`.
  var kindName: String {
    switch value {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .int, .float: "a number"
    case .bool: "a boolean"
    case .null: "null"
    }
  }
}

/// Reads JSON text: no comments, no trailing commas, duplicate keys rejected, nesting limited.
struct JSONReader {
  private let bytes: [UInt8]
  private let file: String
  private let maxNesting: Int
  private var index = 0
  private var line = 1
  private var column = 1
  private var depth = 0

  static func read(_ text: String, file: String, maxNesting: Int) throws(SpecError) -> JSONNode {
    var reader = JSONReader(bytes: Array(text.utf8), file: file, maxNesting: maxNesting)
    reader.skipWhitespace()
    let node = try reader.value()
    reader.skipWhitespace()
    guard reader.index >= reader.bytes.count else {
      throw reader.error(reader.position, "unexpected text after the JSON value")
    }
    return node
  }

  private init(bytes: [UInt8], file: String, maxNesting: Int) {
    self.bytes = bytes
    self.file = file
    self.maxNesting = maxNesting
  }

  private var position: SourcePosition { SourcePosition(line: line, column: column) }

  private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func advance() {
    guard index < bytes.count else { return }
    let byte = bytes[index]
    index += 1
    if byte == UInt8(ascii: "\n") {
      line += 1
      column = 1
    } else if byte & 0xC0 != 0x80 {
      column += 1
    }
  }

  private func error(
    _ at: SourcePosition, _ message: String, kind: SpecError.Kind = .syntax
  ) -> SpecError {
    SpecError(kind, file: file, line: at.line, column: at.column, message)
  }

  private var found: String {
    guard let byte = peek() else { return "end of file" }
    return byte >= 0x20 && byte < 0x7f ? "`\(Character(Unicode.Scalar(byte)))`" : "a control byte"
  }

  private mutating func skipWhitespace() {
    while let byte = peek(),
      byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
        || byte == UInt8(ascii: "\r")
    {
      advance()
    }
  }

  private mutating func value() throws(SpecError) -> JSONNode {
    let start = position
    guard let byte = peek() else { throw error(start, "expected a JSON value, found end of file") }
    switch byte {
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      guard depth < maxNesting else {
        throw error(start, "JSON nested deeper than \(maxNesting)", kind: .limitExceeded)
      }
      depth += 1
      defer { depth -= 1 }
      return byte == UInt8(ascii: "{") ? try object() : try array()
    case UInt8(ascii: "\""):
      return JSONNode(value: .string(try string()), position: start)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try number()
    default:
      for (word, value) in [
        ("true", JSONNode.Value.bool(true)), ("false", .bool(false)), ("null", .null),
      ] {
        let utf8 = Array(word.utf8)
        if index + utf8.count <= bytes.count, Array(bytes[index..<(index + utf8.count)]) == utf8 {
          for _ in utf8 { advance() }
          return JSONNode(value: value, position: start)
        }
      }
      throw error(start, "expected a JSON value, found \(found)")
    }
  }

  private mutating func object() throws(SpecError) -> JSONNode {
    let start = position
    advance()
    var members: [(key: String, keyPosition: SourcePosition, value: JSONNode)] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "}") {
      advance()
      return JSONNode(value: .object(members), position: start)
    }
    while true {
      skipWhitespace()
      let keyPosition = position
      guard peek() == UInt8(ascii: "\"") else {
        throw error(keyPosition, "expected a string key, found \(found)")
      }
      let key = try string()
      if members.contains(where: { $0.key == key }) {
        throw error(keyPosition, "duplicate key \"\(key)\"")
      }
      skipWhitespace()
      guard peek() == UInt8(ascii: ":") else {
        throw error(position, "expected `:`, found \(found)")
      }
      advance()
      skipWhitespace()
      let member = try value()
      members.append((key, keyPosition, member))
      skipWhitespace()
      if peek() == UInt8(ascii: ",") {
        advance()
        continue
      }
      guard peek() == UInt8(ascii: "}") else {
        throw error(
          position,
          "expected `,` or `}` in the object opened at \(start.line):\(start.column), found \(found)"
        )
      }
      advance()
      return JSONNode(value: .object(members), position: start)
    }
  }

  private mutating func array() throws(SpecError) -> JSONNode {
    let start = position
    advance()
    var items: [JSONNode] = []
    skipWhitespace()
    if peek() == UInt8(ascii: "]") {
      advance()
      return JSONNode(value: .array(items), position: start)
    }
    while true {
      skipWhitespace()
      items.append(try value())
      skipWhitespace()
      if peek() == UInt8(ascii: ",") {
        advance()
        continue
      }
      guard peek() == UInt8(ascii: "]") else {
        throw error(
          position,
          "expected `,` or `]` in the array opened at \(start.line):\(start.column), found \(found)"
        )
      }
      advance()
      return JSONNode(value: .array(items), position: start)
    }
  }

  private mutating func string() throws(SpecError) -> String {
    let start = position
    advance()
    var scalars = String.UnicodeScalarView()
    var pending: [UInt8] = []
    func flush() {
      if !pending.isEmpty {
        scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
        pending.removeAll()
      }
    }
    while true {
      guard let byte = peek() else { throw error(start, "unterminated string") }
      if byte == UInt8(ascii: "\"") {
        advance()
        break
      }
      guard byte >= 0x20 else { throw error(position, "control character in string") }
      if byte != UInt8(ascii: "\\") {
        pending.append(byte)
        advance()
        continue
      }
      flush()
      let escapeAt = position
      advance()
      guard let escaped = peek() else { throw error(start, "unterminated string") }
      advance()
      switch escaped {
      case UInt8(ascii: "\""): scalars.append("\"")
      case UInt8(ascii: "\\"): scalars.append("\\")
      case UInt8(ascii: "/"): scalars.append("/")
      case UInt8(ascii: "b"): scalars.append("\u{8}")
      case UInt8(ascii: "f"): scalars.append("\u{C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var code = try hex4(at: escapeAt)
        if (0xD800..<0xDC00).contains(code), peek() == UInt8(ascii: "\\") {
          advance()
          guard peek() == UInt8(ascii: "u") else { throw error(escapeAt, "invalid surrogate pair") }
          advance()
          let low = try hex4(at: escapeAt)
          guard (0xDC00..<0xE000).contains(low) else {
            throw error(escapeAt, "invalid surrogate pair")
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
      default:
        throw error(escapeAt, "invalid escape in string")
      }
    }
    flush()
    return String(scalars)
  }

  private mutating func hex4(at: SourcePosition) throws(SpecError) -> UInt32 {
    var code: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = peek(), let digit = Int(String(Unicode.Scalar(byte)), radix: 16) else {
        throw error(at, "invalid \\u escape")
      }
      code = code << 4 | UInt32(digit)
      advance()
    }
    return code
  }

  private mutating func number() throws(SpecError) -> JSONNode {
    let start = position
    let from = index
    var isFloat = false
    if peek() == UInt8(ascii: "-") { advance() }
    func digits(_ reader: inout JSONReader) -> Int {
      var count = 0
      while let byte = reader.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
        reader.advance()
        count += 1
      }
      return count
    }
    let intStart = index
    let intDigits = digits(&self)
    guard intDigits > 0 else { throw error(start, "invalid number") }
    if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") {
      throw error(start, "leading zeros are not allowed in JSON numbers")
    }
    if peek() == UInt8(ascii: ".") {
      isFloat = true
      advance()
      guard digits(&self) > 0 else { throw error(start, "invalid number") }
    }
    if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      isFloat = true
      advance()
      if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { advance() }
      guard digits(&self) > 0 else { throw error(start, "invalid number") }
    }
    let text = String(decoding: bytes[from..<index], as: UTF8.self)
    if isFloat {
      guard let value = Double(text), value.isFinite else {
        throw error(start, "invalid number \(text)")
      }
      return JSONNode(value: .float(value), position: start)
    }
    guard let value = Int(text) else {
      throw error(start, "integer \(text) is too large", kind: .value)
    }
    return JSONNode(value: .int(value), position: start)
  }
}
