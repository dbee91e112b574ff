/// `5853133` -> `5,853,133`.
func grouped(_ value: Int) -> String {
  let digits = String(value.magnitude)
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
    out.append(c)
  }
  return value < 0 ? "-" + out : out
}

/// `23412544` -> `22.33 MiB`: binary units, two decimals from KiB up.
func byteSize(_ bytes: Int) -> String {
  let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
  guard bytes >= 1024 else { return "\(bytes) B" }
  var scaled = Double(bytes)
  var unit = 0
  scaled /= 1024
  while scaled >= 1024 && unit < units.count - 1 {
    scaled /= 1024
    unit += 1
  }
  let hundredths = Int((scaled * 100).rounded())
  let fraction = hundredths % 100
  return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) \(units[unit])"
}

/// `[32, 3, 3, 3]`; `[]` for a 0-d tensor.
func shapeText(_ shape: [Int]) -> String {
  "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// At most `width` characters: long names keep their informative tail after `...`.
func capped(_ text: String, _ width: Int) -> String {
  guard text.count > width, width > 3 else { return text }
  return "..." + String(text.suffix(width - 3))
}

func padRight(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func padLeft(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}

/// Rows of cells laid out in aligned columns, two spaces apart; trailing spaces trimmed.
struct Table {
  enum Alignment { case left, right }

  var header: [String]
  var alignments: [Alignment]
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
      for (i, cell) in cells.enumerated() {
        let last = i == cells.count - 1
        let aligned =
          alignments[i] == .right
          ? padLeft(cell, widths[i]) : (last ? cell : padRight(cell, widths[i]))
        parts.append(aligned)
      }
      var text = parts.joined(separator: "  ")
      while text.last == " " { text.removeLast() }
      return text
    }
    let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
    return [line(header), rule] + rows.map(line)
  }
}

/// A sum that stops at `Int.max` instead of overflowing.
func sum(_ values: [Int]) -> Int {
  var total = 0
  for v in values {
    let (s, o) = total.addingReportingOverflow(v)
    total = o ? Int.max : s
  }
  return total
}
