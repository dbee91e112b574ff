/// Why a file could not be read: what went wrong, where in the file, and what was being read.
///
/// Printed once, at the edge, as `context at 0x1a3f: message`.
public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The class of failure, stable enough for tests and scripts to match on.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// The data ends before what was being read.
    case truncated
    /// The file is not in any format WeightScope reads, or a magic number is wrong.
    case badMagic
    /// The bytes are present but do not follow the format.
    case malformed
    /// Valid in the format, but a feature WeightScope does not read.
    case unsupported
    /// A limit from ``Limits`` was exceeded.
    case limitExceeded
    /// A size or count computed from the file overflows.
    case overflow
    /// A checksum stored in the file does not match the data.
    case checksum
    /// The operating system refused to open, stat or map a file.
    case io
    /// A file outside the model was referenced in a way that is refused.
    case refused
  }

  public var kind: Kind
  /// Absolute byte offset in the file (or in the named entry) where the problem is, when known.
  public var offset: Int?
  /// What was being read: `data.pkl: opcode BINGET`, `ModelProto.graph.initializer[12].dims`.
  public var context: String
  public var message: String

  public init(_ kind: Kind, at offset: Int?, _ message: String, context: String = "") {
    self.kind = kind
    self.offset = offset
    self.context = context
    self.message = message
  }

  /// The same error with `outer` prefixed to its context (`"data.pkl"` + `"opcode BINGET"`).
  public func within(_ outer: String) -> ReadError {
    var copy = self
    copy.context = context.isEmpty ? outer : "\(outer): \(context)"
    return copy
  }

  public var description: String {
    var text = context
    if let offset {
      text += text.isEmpty ? "at \(hex(offset))" : " at \(hex(offset))"
    }
    return text.isEmpty ? message : "\(text): \(message)"
  }
}

/// `0x1a3f`: the spelling of offsets in every message.
public func hex(_ value: Int) -> String {
  value < 0 ? "-0x" + String(-value, radix: 16) : "0x" + String(value, radix: 16)
}
