#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Python's arithmetic on ints and floats: `/` gives a float, `//` and `%` floor, `**` of ints
/// stays an int for a non-negative exponent. Ints are 64-bit here: overflow is an error.
enum PythonArithmetic {
  struct Failure: Error {
    var message: String
  }

  static func apply(_ op: String, _ a: SpecValue, _ b: SpecValue) throws(Failure) -> SpecValue {
    if case .int(let x) = a, case .int(let y) = b { return try integer(op, x, y) }
    guard let x = a.doubleValue, let y = b.doubleValue else {
      throw Failure(message: "`\(op)` needs two numbers")
    }
    let result: Double
    switch op {
    case "+": result = x + y
    case "-": result = x - y
    case "*": result = x * y
    case "/":
      guard y != 0 else { throw Failure(message: "division by zero") }
      result = x / y
    case "//":
      guard y != 0 else { throw Failure(message: "division by zero") }
      result = (x / y).rounded(.down)
    case "%":
      guard y != 0 else { throw Failure(message: "modulo by zero") }
      let r = x - y * (x / y).rounded(.down)
      result = r
    case "**":
      guard !(x == 0 && y < 0) else { throw Failure(message: "zero to a negative power") }
      result = pow(x, y)
    default: throw Failure(message: "unsupported operator `\(op)`")
    }
    guard result.isFinite else { throw Failure(message: "result of `\(op)` is not finite") }
    return .float(result)
  }

  private static func integer(_ op: String, _ x: Int, _ y: Int) throws(Failure) -> SpecValue {
    let overflow = Failure(message: "integer overflow in `\(op)`")
    switch op {
    case "+":
      let (r, o) = x.addingReportingOverflow(y)
      if o { throw overflow }
      return .int(r)
    case "-":
      let (r, o) = x.subtractingReportingOverflow(y)
      if o { throw overflow }
      return .int(r)
    case "*":
      let (r, o) = x.multipliedReportingOverflow(by: y)
      if o { throw overflow }
      return .int(r)
    case "/":
      guard y != 0 else { throw Failure(message: "division by zero") }
      return .float(Double(x) / Double(y))
    case "//":
      guard y != 0 else { throw Failure(message: "division by zero") }
      let (q, o) = x.dividedReportingOverflow(by: y)
      if o { throw overflow }
      return .int(q * y != x && (x < 0) != (y < 0) ? q - 1 : q)
    case "%":
      guard y != 0 else { throw Failure(message: "modulo by zero") }
      let (r, o) = x.remainderReportingOverflow(dividingBy: y)
      if o { return .int(0) }
      return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case "**":
      if y < 0 {
        guard x != 0 else { throw Failure(message: "zero to a negative power") }
        return .float(pow(Double(x), Double(y)))
      }
      var result = 1
      var base = x
      var exponent = y
      while exponent > 0 {
        if exponent & 1 == 1 {
          let (r, o) = result.multipliedReportingOverflow(by: base)
          if o { throw overflow }
          result = r
        }
        exponent >>= 1
        if exponent > 0 {
          let (b, o) = base.multipliedReportingOverflow(by: base)
          if o { throw overflow }
          base = b
        }
      }
      return .int(result)
    default: throw Failure(message: "unsupported operator `\(op)`")
    }
  }
}
