/// Arithmetic on sizes that came from a file: overflow is an error, never a wrap or a trap.
extension Int {
  /// `self + other`, or a `.overflow` error naming `what`.
  @inlinable
  public func adding(_ other: Int, at offset: Int?, _ what: @autoclosure () -> String) throws(ReadError) -> Int {
    let (sum, overflow) = addingReportingOverflow(other)
    if overflow { throw ReadError(.overflow, at: offset, "\(what()) overflows") }
    return sum
  }

  /// `self * other`, or a `.overflow` error naming `what`.
  @inlinable
  public func multiplying(_ other: Int, at offset: Int?, _ what: @autoclosure () -> String) throws(ReadError) -> Int {
    let (product, overflow) = multipliedReportingOverflow(by: other)
    if overflow { throw ReadError(.overflow, at: offset, "\(what()) overflows") }
    return product
  }
}

/// The number of elements in a tensor of `shape`: 1 for a 0-d tensor.
///
/// - Throws: `.malformed` for a negative dimension, `.overflow` when the product does not fit.
public func elementCount(_ shape: [Int], at offset: Int? = nil) throws(ReadError) -> Int {
  var count = 1
  for dim in shape {
    guard dim >= 0 else { throw ReadError(.malformed, at: offset, "negative dimension \(dim) in shape \(shape)") }
    count = try count.multiplying(dim, at: offset, "element count of shape \(shape)")
  }
  return count
}
