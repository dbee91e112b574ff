/// Why a shape written as text could not be read.
public struct ShapeTextError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Reads a per-sample shape written as `3x32x32`, `3,32,32`, `[3, 32, 32]` or `(3, 32, 32)`.
///
/// Every dimension must be a positive integer.
public func parseShape(_ text: String) throws(ShapeTextError) -> [Int] {
  var body = Substring(text.trimmingWhitespace())
  if let first = body.first, let last = body.last, body.count >= 2,
    (first == "[" && last == "]") || (first == "(" && last == ")")
  {
    body = body.dropFirst().dropLast()
  }
  var parts = body.split(
    omittingEmptySubsequences: false,
    whereSeparator: { $0 == "x" || $0 == "X" || $0 == "," || $0 == "×" })
  if parts.count > 1, let last = parts.last, last.trimmingWhitespace().isEmpty,
    text.contains(",")
  {
    parts.removeLast()  // `(3,)`
  }
  var dims: [Int] = []
  for part in parts {
    let trimmed = part.trimmingWhitespace()
    guard let dim = Int(trimmed), dim > 0 else {
      throw ShapeTextError(
        message: "shape `\(text)`: `\(trimmed)` is not a positive integer; write it as 3x32x32")
    }
    dims.append(dim)
  }
  return dims
}

extension StringProtocol {
  func trimmingWhitespace() -> Substring {
    let view = self[...]
    guard let start = view.firstIndex(where: { !$0.isWhitespace }),
      let end = view.lastIndex(where: { !$0.isWhitespace })
    else { return Substring("") }
    return Substring(view[start...end])
  }
}
