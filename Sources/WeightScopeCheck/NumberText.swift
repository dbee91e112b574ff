/// `5853133` -> `5,853,133`.
public func groupedDigits(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
    out.append(c)
  }
  return value < 0 ? "-" + out : out
}

/// `23412544` -> `22.33 MiB`: binary units, two decimals from KiB up.
public func binarySize(_ bytes: Int) -> String {
  let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
  guard bytes >= 1024 else { return "\(bytes) B" }
  var scaled = Double(bytes) / 1024
  var unit = 0
  while scaled >= 1024 && unit < units.count - 1 {
    scaled /= 1024
    unit += 1
  }
  let hundredths = Int((scaled * 100).rounded())
  let fraction = hundredths % 100
  return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
}

/// `71.7%` of `whole`, one decimal.
func percent(_ part: Int, of whole: Int) -> String {
  guard whole > 0 else { return "-" }
  let tenths = Int((Double(part) * 1000 / Double(whole)).rounded())
  return "\(tenths / 10).\(tenths % 10)%"
}

/// `[32, 3, 3, 3]`; `[]` for a 0-d tensor.
public func bracketed(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// `64x16x16`; `-` when unknown.
public func crossed(_ shape: [Int]?) -> String {
  guard let shape else { return "-" }
  return shape.isEmpty ? "()" : shape.map(String.init).joined(separator: "x")
}

/// A sum that stops at `Int.max` instead of overflowing.
func saturatingSum<S: Sequence<Int>>(_ values: S) -> Int {
  var total = 0
  for v in values {
    let (s, o) = total.addingReportingOverflow(v)
    total = o ? Int.max : s
  }
  return total
}

/// Rows of cells in aligned columns, two spaces apart; trailing spaces trimmed.
struct TextTable {
  var header: [String]
  /// Right-aligned columns.
  var right: Set<Int>
  var rows: [[String]] = []

  func render() -> [String] {
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() where i < widths.count {
        widths[i] = max(widths[i], cell.count)
      }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (i, cell) in cells.enumerated() where i < widths.count {
        let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
        parts.append(right.contains(i) ? pad + cell : cell + pad)
      }
      var text = parts.joined(separator: "  ")
      while text.last == " " { text.removeLast() }
      return text
    }
    let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * max(0, widths.count - 1))
    return [line(header), rule] + rows.map(line)
  }
}
