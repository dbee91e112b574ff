/// Limits on a model's size: parameters, trainable parameters, bytes.
public struct Budget: Sendable, Equatable {
  public var maxParams: Int?
  public var maxTrainable: Int?
  public var maxBytes: Int?

  public init(maxParams: Int? = nil, maxTrainable: Int? = nil, maxBytes: Int? = nil) {
    self.maxParams = maxParams
    self.maxTrainable = maxTrainable
    self.maxBytes = maxBytes
  }

  public var isEmpty: Bool { maxParams == nil && maxTrainable == nil && maxBytes == nil }

  /// Why a budget text could not be read.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var message: String
    public var description: String { "'\(text)': \(message)" }
  }

  /// A count: `5852234`, `5_852_234`, `5,852,234`, `5.9M`, `6e6`, `120k`, `7B` (billion).
  public static func parseCount(_ text: String) throws(ParseError) -> Int {
    let suffixes: [(String, Double)] = [
      ("k", 1e3), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("B", 1e9), ("T", 1e12),
    ]
    return try parse(text, suffixes: suffixes, what: "a parameter count such as 5852234, 5.9M or 6e6")
  }

  /// A size in bytes: `25MB`, `24MiB`, `1.5GB`, `23412544`, `512KiB`, `100B`.
  public static func parseBytes(_ text: String) throws(ParseError) -> Int {
    let suffixes: [(String, Double)] = [
      ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
      ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
      ("k", 1e3), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
    ]
    return try parse(text, suffixes: suffixes, what: "a size such as 25MB, 24MiB or 23412544")
  }

  private static func parse(_ text: String, suffixes: [(String, Double)], what: String)
    throws(ParseError) -> Int
  {
    func fail(_ message: String) -> ParseError {
      ParseError(text: text, message: message + "; expected " + what)
    }
    var body = text.filter { $0 != "_" && $0 != "," && $0 != " " }
    var scale = 1.0
    for (suffix, value) in suffixes where body.hasSuffix(suffix) {
      body.removeLast(suffix.count)
      scale = value
      break
    }
    guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || "+.eE".contains($0)) })
    else { throw fail("not a number") }
    if scale == 1, body.allSatisfy(\.isNumber) {
      guard let value = Int(body) else { throw fail("too large") }
      return value
    }
    guard let number = Double(body), number.isFinite, number >= 0 else {
      throw fail("not a number")
    }
    let value = (number * scale).rounded()
    guard value < 9.2e18 else { throw fail("too large") }
    return Int(value)
  }
}

/// What a budget is checked against: totals and the layers that make them up.
public struct BudgetSubject: Sendable, Equatable {
  public struct Layer: Sendable, Equatable {
    public var name: String
    public var type: String
    public var parameters: Int
    public var trainable: Int
    public var bytes: Int

    public init(name: String, type: String, parameters: Int, trainable: Int, bytes: Int) {
      self.name = name
      self.type = type
      self.parameters = parameters
      self.trainable = trainable
      self.bytes = bytes
    }
  }

  public var parameters: Int
  public var trainable: Int
  public var bytes: Int
  public var layers: [Layer]

  public init(parameters: Int, trainable: Int, bytes: Int, layers: [Layer]) {
    self.parameters = parameters
    self.trainable = trainable
    self.bytes = bytes
    self.layers = layers
  }
}

/// One limit a subject goes over, with the largest layers that account for the excess.
public struct BudgetExcess: Sendable, Equatable {
  public enum Measure: String, Sendable, Equatable {
    case parameters, trainable, bytes
  }

  public var measure: Measure
  public var total: Int
  public var budget: Int
  /// The largest layers by the measure, largest first, until they cover the excess (at least
  /// two, at most five).
  public var largest: [BudgetSubject.Layer]

  public var excess: Int { total - budget }

  func value(_ layer: BudgetSubject.Layer) -> Int {
    switch measure {
    case .parameters: layer.parameters
    case .trainable: layer.trainable
    case .bytes: layer.bytes
    }
  }

  /// `over budget: 5,853,133 parameters, budget 5,000,000 (853,133 over)` and one line per
  /// large layer with its share of the total.
  public var lines: [String] {
    let unit = measure == .bytes ? " bytes" : measure == .trainable ? " trainable parameters" : " parameters"
    var lines = [
      "over budget: \(groupedDigits(total))\(unit), budget \(groupedDigits(budget)) "
        + "(\(groupedDigits(excess)) over, \(percent(excess, of: budget)) of the budget)"
    ]
    if !largest.isEmpty { lines.append("  largest layers:") }
    var running = 0
    let nameWidth = largest.map(\.name.count).max() ?? 0
    let typeWidth = largest.map(\.type.count).max() ?? 0
    let valueWidth = largest.map { groupedDigits(value($0)).count }.max() ?? 0
    for layer in largest {
      let v = value(layer)
      running = saturatingSum([running, v])
      let name = layer.name + String(repeating: " ", count: nameWidth - layer.name.count)
      let type = layer.type + String(repeating: " ", count: typeWidth - layer.type.count)
      let digits = groupedDigits(v)
      let padded = String(repeating: " ", count: valueWidth - digits.count) + digits
      lines.append(
        "    \(name)  \(type)  \(padded)  \(percent(v, of: total)) of the total "
          + "(\(percent(running, of: total)) together)")
    }
    return lines
  }
}

extension Budget {
  /// Every limit `subject` goes over; empty when it fits.
  public func check(_ subject: BudgetSubject) -> [BudgetExcess] {
    var result: [BudgetExcess] = []
    let limits: [(BudgetExcess.Measure, Int?, Int)] = [
      (.parameters, maxParams, subject.parameters),
      (.trainable, maxTrainable, subject.trainable),
      (.bytes, maxBytes, subject.bytes),
    ]
    for (measure, limit, total) in limits {
      guard let limit, total > limit else { continue }
      var excess = BudgetExcess(measure: measure, total: total, budget: limit, largest: [])
      let sorted = subject.layers.filter { excess.value($0) > 0 }
        .sorted { excess.value($0) > excess.value($1) }
      var covered = 0
      for layer in sorted.prefix(5) {
        if excess.largest.count >= 2 && covered >= total - limit { break }
        excess.largest.append(layer)
        covered = saturatingSum([covered, excess.value(layer)])
      }
      result.append(excess)
    }
    return result
  }
}
