/// Something the user should know that is not a count: a security verdict, a formula mismatch,
/// inconsistent data.
public struct Finding: Sendable, Equatable, Hashable, Codable {
  public enum Severity: String, Sendable, Equatable, Hashable, Codable, Comparable {
    case info, warning, error

    private var rank: Int {
      switch self {
      case .info: 0
      case .warning: 1
      case .error: 2
      }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
  }

  public var severity: Severity
  /// Stable dotted code: `pickle.unknown-global`, `formula.mismatch`, `zip.crc`.
  public var code: String
  public var message: String
  /// Byte offset the finding is about, when there is one.
  public var offset: Int?

  public init(_ severity: Severity, _ code: String, _ message: String, offset: Int? = nil) {
    self.severity = severity
    self.code = code
    self.message = message
    self.offset = offset
  }
}
