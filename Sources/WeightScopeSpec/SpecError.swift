import WeightScopeCore

/// Why a spec could not be read or does not hold together, and where it was written.
///
/// Printed as `file:line:column: message`, the location compilers use, so editors jump to it.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The class of failure, stable enough for tests and scripts to match on.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// The text is not in the accepted subset of Python or JSON.
    case syntax
    /// A layer type that is not a `torch.nn` layer WeightScope knows.
    case unknownLayer
    /// Arguments that do not fit the layer's constructor.
    case argument
    /// A value that cannot be computed: division by zero, overflow, an undefined name.
    case value
    /// A layer's input shape does not fit the layer.
    case shape
    /// Nesting or size beyond what a spec may use.
    case limitExceeded
    /// The file could not be read.
    case io
  }

  public var kind: Kind
  /// The file as named to the parser; empty for text with no file.
  public var file: String
  /// 1-based line and column (in characters); 0 when the error has no place in the text.
  public var line: Int
  public var column: Int
  public var message: String

  public init(_ kind: Kind, file: String, line: Int, column: Int, _ message: String) {
    self.kind = kind
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  /// `file:line:column`, `file`, or empty.
  public var location: String {
    guard line > 0 else { return file }
    return "\(file):\(line):\(column)"
  }

  public var description: String {
    let location = location
    return location.isEmpty ? message : "\(location): \(message)"
  }

  /// The same failure as a ``ReadError`` with the location as its context, for callers that
  /// report every failure one way.
  public var readError: ReadError {
    let readKind: ReadError.Kind =
      switch kind {
      case .io: .io
      case .unknownLayer: .unsupported
      case .limitExceeded: .limitExceeded
      case .syntax, .argument, .value, .shape: .malformed
      }
    return ReadError(readKind, at: nil, message, context: location)
  }
}

/// A place in a text: 1-based line and column.
struct SourcePosition: Sendable, Equatable {
  var line: Int
  var column: Int
}
