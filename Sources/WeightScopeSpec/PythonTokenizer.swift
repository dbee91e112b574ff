/// A token of Python source, as far as the accepted subset needs.
struct PythonToken: Sendable, Equatable {
  enum Kind: Sendable, Equatable {
    case name(String)
    case int(Int)
    case float(Double)
    case string(String)
    /// An operator or delimiter: `(`, `**`, `=`, `+=`.
    case op(String)
    /// The end of a logical line.
    case newline
    case end
    /// Text the tokenizer could not read; the parser reports it when it gets there, so that
    /// errors come in the order they are written.
    case error(SpecError)
  }

  var kind: Kind
  var position: SourcePosition

  /// How the token reads in a message: `` `Conv2d` ``, `` `)` ``, `end of line`.
  var spelling: String {
    switch kind {
    case .name(let name): "`\(name)`"
    case .int(let value): "`\(value)`"
    case .float(let value): "`\(value)`"
    case .string: "a string"
    case .op(let op): "`\(op)`"
    case .newline: "end of line"
    case .end: "end of file"
    case .error: "unreadable text"
    }
  }
}

/// Splits Python source into tokens: names, numbers, strings, operators and logical lines.
///
/// Newlines inside brackets and after a backslash continue the line; comments are dropped.
/// Indentation must be the same on every statement (a snippet may be indented as a whole):
/// the accepted subset has no compound statements.
struct PythonTokenizer {
  private let bytes: [UInt8]
  private let file: String
  private var index = 0
  private var line = 1
  private var column = 1
  private var brackets: [(UInt8, SourcePosition)] = []
  private var tokens: [PythonToken] = []
  private var baseIndent: Int?
  private let maxBrackets: Int

  /// The tokens of `text`, ending with `.end`; an `.error` token before it where reading stopped.
  static func tokenize(_ text: String, file: String, maxNesting: Int) -> [PythonToken] {
    var tokenizer = PythonTokenizer(bytes: Array(text.utf8), file: file, maxBrackets: maxNesting)
    do {
      try tokenizer.run()
    } catch {
      tokenizer.emit(.error(error), at: SourcePosition(line: error.line, column: error.column))
      tokenizer.emit(.end, at: tokenizer.position)
    }
    return tokenizer.tokens
  }

  private init(bytes: [UInt8], file: String, maxBrackets: Int) {
    self.bytes = bytes
    self.file = file
    self.maxBrackets = maxBrackets
  }

  private var position: SourcePosition { SourcePosition(line: line, column: column) }

  private func peek(_ ahead: Int = 0) -> UInt8? {
    let at = index + ahead
    return at < bytes.count ? bytes[at] : nil
  }

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

  private func error(_ kind: SpecError.Kind, _ at: SourcePosition, _ message: String) -> SpecError {
    SpecError(kind, file: file, line: at.line, column: at.column, message)
  }

  private func error(_ at: SourcePosition, _ message: String) -> SpecError {
    error(.syntax, at, message)
  }

  private mutating func emit(_ kind: PythonToken.Kind, at: SourcePosition) {
    tokens.append(PythonToken(kind: kind, position: at))
  }

  private mutating func run() throws(SpecError) {
    var atLineStart = true
    while let byte = peek() {
      if atLineStart && brackets.isEmpty {
        atLineStart = false
        try indentation()
        continue
      }
      let start = position
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0C:
        advance()
      case UInt8(ascii: "#"):
        while let next = peek(), next != UInt8(ascii: "\n") { advance() }
      case UInt8(ascii: "\n"):
        advance()
        if brackets.isEmpty {
          endLogicalLine(at: start)
          atLineStart = true
        }
      case UInt8(ascii: "\\"):
        advance()
        if peek() == UInt8(ascii: "\r") { advance() }
        guard peek() == UInt8(ascii: "\n") else {
          throw error(start, "unexpected character after line continuation `\\`")
        }
        advance()
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        try number()
      case UInt8(ascii: "."):
        if let next = peek(1), isDigit(next) {
          try number()
        } else {
          advance(); emit(.op("."), at: start)
        }
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        try string(prefix: "")
      default:
        if isNameStart(byte) {
          let name = identifier()
          let lower = name.lowercased()
          if let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\""),
            ["r", "b", "u", "rb", "br", "f", "rf", "fr"].contains(lower)
          {
            guard !lower.contains("f") else {
              throw error(start, "f-strings are not supported")
            }
            try string(prefix: lower, start: start)
          } else {
            emit(.name(name), at: start)
          }
        } else {
          try operatorToken()
        }
      }
    }
    if let (open, at) = brackets.last {
      throw error(at, "`\(Character(Unicode.Scalar(open)))` was never closed")
    }
    endLogicalLine(at: position)
    emit(.end, at: position)
  }

  /// Ends a logical line unless it was empty.
  private mutating func endLogicalLine(at: SourcePosition) {
    guard let last = tokens.last, last.kind != .newline else { return }
    emit(.newline, at: at)
  }

  /// Reads the indentation of a line that starts a statement; blank and comment lines pass.
  private mutating func indentation() throws(SpecError) {
    var width = 0
    while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
      width += 1
      advance()
    }
    guard let next = peek(), next != UInt8(ascii: "\n"), next != UInt8(ascii: "#"),
      next != UInt8(ascii: "\r")
    else { return }
    if let baseIndent {
      if width > baseIndent {
        throw error(
          position,
          "unexpected indent (compound statements such as `class`, `def`"
            + " and `for` are not supported)")
      }
      if width < baseIndent { throw error(position, "unindent does not match the first statement") }
    } else {
      baseIndent = width
    }
  }

  private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  private func isNameStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
      || byte >= 0x80
  }

  private mutating func identifier() -> String {
    let from = index
    while let byte = peek(), isNameStart(byte) || isDigit(byte) { advance() }
    return String(decoding: bytes[from..<index], as: UTF8.self)
  }

  private mutating func number() throws(SpecError) {
    let start = position
    let from = index
    var isFloat = false
    var radix = 10
    if peek() == UInt8(ascii: "0"), let marker = peek(1),
      [
        UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "o"), UInt8(ascii: "O"),
        UInt8(ascii: "b"), UInt8(ascii: "B"),
      ].contains(marker)
    {
      radix = marker | 0x20 == UInt8(ascii: "x") ? 16 : marker | 0x20 == UInt8(ascii: "o") ? 8 : 2
      advance()
      advance()
      while let byte = peek(), isNameStart(byte) || isDigit(byte) { advance() }
    } else {
      while let byte = peek(), isDigit(byte) || byte == UInt8(ascii: "_") { advance() }
      if peek() == UInt8(ascii: ".") {
        isFloat = true
        advance()
        while let byte = peek(), isDigit(byte) || byte == UInt8(ascii: "_") { advance() }
      }
      if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
        isFloat = true
        advance()
        if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { advance() }
        while let byte = peek(), isDigit(byte) || byte == UInt8(ascii: "_") { advance() }
      }
      if let suffix = peek(), isNameStart(suffix) {
        throw error(start, "invalid number literal")
      }
    }
    var text = String(decoding: bytes[from..<index], as: UTF8.self)
    text.removeAll { $0 == "_" }
    if isFloat {
      guard let value = Double(text), value.isFinite else {
        throw error(start, "invalid number literal `\(text)`")
      }
      emit(.float(value), at: start)
      return
    }
    let digits = radix == 10 ? Substring(text) : text.dropFirst(2)
    if radix == 10, digits.count > 1, digits.allSatisfy({ $0 == "0" }) == false, digits.first == "0"
    {
      throw error(start, "leading zeros in an integer literal are not permitted")
    }
    guard !digits.isEmpty else { throw error(start, "invalid number literal `\(text)`") }
    guard let value = Int(digits, radix: radix) else {
      let allDigits = digits.allSatisfy { $0.isHexDigit && Int(String($0), radix: radix) != nil }
      throw error(
        allDigits ? .value : .syntax, start,
        allDigits ? "integer literal `\(text)` is too large" : "invalid number literal `\(text)`")
    }
    emit(.int(value), at: start)
  }

  private mutating func string(prefix: String, start: SourcePosition? = nil) throws(SpecError) {
    let start = start ?? position
    let raw = prefix.contains("r")
    guard let quote = peek() else { return }
    let triple = peek(1) == quote && peek(2) == quote
    for _ in 0..<(triple ? 3 : 1) { advance() }
    var value: [UInt8] = []
    while true {
      guard let byte = peek() else {
        throw error(start, triple ? "unterminated triple-quoted string" : "unterminated string")
      }
      if byte == quote {
        if !triple {
          advance()
          break
        }
        if peek(1) == quote && peek(2) == quote {
          advance()
          advance()
          advance()
          break
        }
      }
      if byte == UInt8(ascii: "\n") && !triple {
        throw error(start, "unterminated string")
      }
      if byte == UInt8(ascii: "\\"), let escaped = peek(1) {
        advance()
        advance()
        if raw {
          value.append(byte)
          value.append(escaped)
          continue
        }
        switch escaped {
        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
        case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
        case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
        case UInt8(ascii: "0"): value.append(0)
        case UInt8(ascii: "\n"): break
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): value.append(escaped)
        default:
          value.append(byte)
          value.append(escaped)
        }
        continue
      }
      value.append(byte)
      advance()
    }
    emit(.string(String(decoding: value, as: UTF8.self)), at: start)
  }

  /// Operators of two or three characters, longest first.
  private static let operators: [[UInt8]] = [
    "**=", "//=", ">>=", "<<=", "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", ":=", "<<", ">>",
  ].map { Array($0.utf8) }
  private static let singles = Array("()[]{},:.;=+-*/%<>@&|^~".utf8)
  private static let closing: [UInt8: UInt8] = [
    UInt8(ascii: ")"): UInt8(ascii: "("), UInt8(ascii: "]"): UInt8(ascii: "["),
    UInt8(ascii: "}"): UInt8(ascii: "{"),
  ]

  private mutating func operatorToken() throws(SpecError) {
    let start = position
    if let first = peek(), let second = peek(1), Self.singles.contains(second) {
      for op in Self.operators where op[0] == first && op[1] == second {
        if op.count == 3 && peek(2) != op[2] { continue }
        for _ in op { advance() }
        emit(.op(String(decoding: op, as: UTF8.self)), at: start)
        return
      }
    }
    guard let byte = peek(), Self.singles.contains(byte) else {
      let scalar = peek().map { $0 < 0x80 ? String(Character(Unicode.Scalar($0))) : "non-ASCII" }
      throw error(start, "unexpected character `\(scalar ?? "")`")
    }
    advance()
    if byte == UInt8(ascii: "(") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
      guard brackets.count < maxBrackets else {
        throw error(.limitExceeded, start, "brackets nested deeper than \(maxBrackets)")
      }
      brackets.append((byte, start))
    } else if let opener = Self.closing[byte] {
      guard let (open, at) = brackets.popLast() else {
        throw error(start, "unmatched `\(Character(Unicode.Scalar(byte)))`")
      }
      guard open == opener else {
        throw error(
          start,
          "closing `\(Character(Unicode.Scalar(byte)))` does not match `\(Character(Unicode.Scalar(open)))`"
            + " opened at \(at.line):\(at.column)")
      }
    }
    emit(.op(String(Character(Unicode.Scalar(byte)))), at: start)
  }
}
