import WeightScopeCore

/// `5853133` -> `5,853,133`.
func grouped(_ value: Int) -> String {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
    let start = writeDigits(value, separators: true, into: buffer)
    return String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self)
  }
}

/// Writes `value` in decimal, with a comma between thousands when `separators`, at the end of
/// `buffer` (32 bytes: 19 digits, 6 commas and a sign fit); returns where it starts.
func writeDigits(_ value: Int, separators: Bool, into buffer: UnsafeMutableBufferPointer<UInt8>)
  -> Int
{
  var magnitude = value.magnitude
  var position = buffer.count
  var digits = 0
  repeat {
    if separators && digits > 0 && digits % 3 == 0 {
      position -= 1
      buffer[position] = UInt8(ascii: ",")
    }
    position -= 1
    buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
    magnitude /= 10
    digits += 1
  } while magnitude > 0
  if value < 0 {
    position -= 1
    buffer[position] = UInt8(ascii: "-")
  }
  return position
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
  var text = "["
  for (i, size) in shape.enumerated() {
    if i > 0 { text += ", " }
    text += String(size)
  }
  return text + "]"
}

/// The number of characters in `text`: a byte count for ASCII text (the usual case), else the
/// full grapheme count.
func characterCount(_ text: String) -> Int {
  let ascii =
    text.utf8.withContiguousStorageIfAvailable { isASCII(UnsafeRawBufferPointer($0)) }
    ?? text.utf8.allSatisfy { $0 < 0x80 }
  return ascii ? text.utf8.count : text.count
}

/// At most `width` characters: long names keep their informative tail after `...`.
func capped(_ text: String, _ width: Int) -> String {
  guard width > 3, characterCount(text) > width else { return text }
  return "..." + String(text.suffix(width - 3))
}

func padRight(_ s: String, _ width: Int) -> String {
  let count = characterCount(s)
  return count >= width ? s : s + String(repeating: " ", count: width - count)
}

func padLeft(_ s: String, _ width: Int) -> String {
  let count = characterCount(s)
  return count >= width ? s : String(repeating: " ", count: width - count) + s
}

/// Rows of cells laid out in aligned columns, two spaces apart; trailing spaces trimmed.
struct Table {
  enum Alignment { case left, right }

  var header: [String]
  var alignments: [Alignment]
  var rows: [[String]] = []

  /// The table's lines, each ended by a newline, appended to `out`: no string made per line.
  func write(into out: inout [UInt8]) {
    var widths = header.map(characterCount)
    var cellWidths: [[Int]] = []
    cellWidths.reserveCapacity(rows.count)  // Rows made by this program, not counts from a file.
    for row in rows {
      var counts: [Int] = []
      counts.reserveCapacity(row.count)
      for (i, cell) in row.enumerated() {
        let count = characterCount(cell)
        counts.append(count)
        if i < widths.count { widths[i] = max(widths[i], count) }
      }
      cellWidths.append(counts)
    }
    let lineWidth = widths.reduce(0, +) + 2 * max(0, widths.count - 1)
    let writer = LineWriter(widths: widths, alignments: alignments)
    writer.line(header, header.map(characterCount), into: &out)
    out.append(contentsOf: repeatElement(UInt8(ascii: "-"), count: lineWidth))
    out.append(0x0A)
    for (row, counts) in zip(rows, cellWidths) { writer.line(row, counts, into: &out) }
  }

  /// Lays out one line at a time at the end of the output.
  struct LineWriter {
    let widths: [Int]
    let alignments: [Alignment]
    let spaces = [UInt8](repeating: 0x20, count: 64)

    func pad(_ count: Int, _ out: inout [UInt8]) {
      var left = count
      while left > 0 {
        let run = min(left, spaces.count)
        out.append(contentsOf: spaces[..<run])
        left -= run
      }
    }

    /// `cells` laid out, `counts` their characters, and a newline; trailing spaces trimmed.
    func line(_ cells: [String], _ counts: [Int], into out: inout [UInt8]) {
      let start = out.count
      var end = min(cells.count, counts.count, widths.count, alignments.count)
      // characterCount is the byte count exactly when the cell is ASCII.
      let ascii = (0..<end).allSatisfy { counts[$0] == cells[$0].utf8.count }
      // Empty cells at the end of an ASCII line only add spaces that are trimmed. (After other
      // text, a space may join the character before it.)
      if ascii {
        while end > 0, counts[end - 1] == 0 { end -= 1 }
      }
      for i in 0..<end {
        if i > 0 { pad(2, &out) }
        let padding = max(0, widths[i] - counts[i])
        if alignments[i] == .right { pad(padding, &out) }
        let utf8 = cells[i].utf8
        if utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil {
          out.append(contentsOf: utf8)
        }
        if alignments[i] != .right && i != end - 1 { pad(padding, &out) }
      }
      if ascii {
        while out.count > start, out.last == 0x20 { out.removeLast() }
      } else {
        // A space can end a longer character (after a prepended mark): trim by characters.
        var text = String(decoding: out[start...], as: UTF8.self)
        while text.last == " " { text.removeLast() }
        out.removeSubrange(start...)
        out.append(contentsOf: text.utf8)
      }
      out.append(0x0A)
    }
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
