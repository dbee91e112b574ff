import WeightScopeCore

/// A ``Table`` whose cells are written one after another into one buffer as the rows are made:
/// no string or array per row, and numbers and shapes go straight in as digits. Laid out
/// exactly as ``Table`` lays out the same cells.
struct CellTable {
  let header: [String]
  let alignments: [Table.Alignment]
  /// Every cell's text, row after row.
  private var text: [UInt8] = []
  /// Where each cell ends in `text`, and how many characters it has.
  private var cellEnds: [Int] = []
  private var cellCharacters: [Int] = []
  /// Whether every cell of each finished row is ASCII (characters are bytes).
  private var rowIsASCII: [Bool] = []
  private var openRowIsASCII = true

  init(header: [String], alignments: [Table.Alignment], rows: Int = 0) {
    self.header = header
    self.alignments = alignments
    // Sized from the rows the caller is about to add, a few per layer or tensor it holds.
    cellEnds.reserveCapacity(rows * header.count)
    cellCharacters.reserveCapacity(rows * header.count)
    rowIsASCII.reserveCapacity(rows)
    text.reserveCapacity(rows * header.count * 8)
  }

  var rowCount: Int { rowIsASCII.count }

  // MARK: Cells

  /// A cell holding `cell`.
  mutating func add(_ cell: String) {
    var cell = cell
    cell.withUTF8 { text.append(contentsOf: $0) }
    let count = characterCount(cell)
    close(characters: count, ascii: count == cell.utf8.count)
  }

  /// An empty cell.
  mutating func addEmpty() {
    close(characters: 0, ascii: true)
  }

  /// `value` with thousands separators, as ``grouped(_:)`` writes it.
  mutating func add(grouped value: Int) {
    let start = text.count
    appendGrouped(value, to: &text)
    close(characters: text.count - start, ascii: true)
  }

  /// `shape` as ``shapeText(_:)`` writes it.
  mutating func add(shape: [Int]) {
    let start = text.count
    text.append(UInt8(ascii: "["))
    for (i, size) in shape.enumerated() {
      if i > 0 {
        text.append(UInt8(ascii: ","))
        text.append(UInt8(ascii: " "))
      }
      appendDecimal(size, to: &text)
    }
    text.append(UInt8(ascii: "]"))
    close(characters: text.count - start, ascii: true)
  }

  /// `name`, at most `width` characters, as ``capped(_:_:)`` shortens it.
  mutating func add(_ name: String, cappedAt width: Int) {
    var name = name
    let fitted: Bool = name.withUTF8 { utf8 in
      let bytes = UnsafeRawBufferPointer(utf8)
      guard isASCII(bytes) else { return false }
      if width > 3, bytes.count > width {
        text.append(contentsOf: "...".utf8)
        text.append(contentsOf: bytes[(bytes.count - (width - 3))...])
        close(characters: width, ascii: true)
      } else {
        text.append(contentsOf: bytes)
        close(characters: bytes.count, ascii: true)
      }
      return true
    }
    if !fitted { add(capped(name, width)) }
  }

  /// Ends the row, which must have a cell in every column.
  mutating func endRow() {
    precondition(cellEnds.count == (rowIsASCII.count + 1) * header.count, "a row of the wrong width")
    rowIsASCII.append(openRowIsASCII)
    openRowIsASCII = true
  }

  private mutating func close(characters: Int, ascii: Bool) {
    cellEnds.append(text.count)
    cellCharacters.append(characters)
    if !ascii { openRowIsASCII = false }
  }

  // MARK: Layout

  /// The table's lines, each ended by a newline, appended to `out`.
  func write(into out: inout [UInt8]) {
    let columns = header.count
    var widths = header.map(characterCount)
    for (k, count) in cellCharacters.enumerated() {
      widths[k % columns] = max(widths[k % columns], count)
    }
    let lineWidth = widths.reduce(0, +) + 2 * max(0, columns - 1)
    let writer = Table.LineWriter(widths: widths, alignments: alignments)
    writer.line(header, header.map(characterCount), into: &out)
    out.append(contentsOf: repeatElement(UInt8(ascii: "-"), count: lineWidth))
    out.append(0x0A)
    out.reserveCapacity(out.count + rowIsASCII.count * (lineWidth + 1))
    let columnCount = min(columns, alignments.count)
    text.withUnsafeBufferPointer { text in
      for row in rowIsASCII.indices {
        let first = row * columns
        let rowStart = first == 0 ? 0 : cellEnds[first - 1]
        guard rowIsASCII[row] else {
          // Other characters take the string layout, which trims by characters.
          var cells: [String] = []
          var start = rowStart
          for k in first..<(first + columns) {
            cells.append(String(decoding: text[start..<cellEnds[k]], as: UTF8.self))
            start = cellEnds[k]
          }
          writer.line(cells, Array(cellCharacters[first..<(first + columns)]), into: &out)
          continue
        }
        let lineStart = out.count
        // Empty cells at the end only add spaces that are trimmed.
        var end = columnCount
        while end > 0, cellCharacters[first + end - 1] == 0 { end -= 1 }
        var start = rowStart
        for i in 0..<end {
          let k = first + i
          if i > 0 { pad(2, &out) }
          let padding = max(0, widths[i] - cellCharacters[k])
          if alignments[i] == .right { pad(padding, &out) }
          out.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<cellEnds[k]]))
          if alignments[i] != .right && i != end - 1 { pad(padding, &out) }
          start = cellEnds[k]
        }
        while out.count > lineStart, out.last == 0x20 { out.removeLast() }
        out.append(0x0A)
      }
    }
  }

  private func pad(_ count: Int, _ out: inout [UInt8]) {
    if count > 0 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count)) }
  }
}

/// Appends `value` in decimal.
func appendDecimal(_ value: Int, to out: inout [UInt8]) {
  appendDigits(value, separators: false, to: &out)
}

/// Appends `value` with thousands separators: `5,853,133`.
func appendGrouped(_ value: Int, to out: inout [UInt8]) {
  appendDigits(value, separators: true, to: &out)
}

private func appendDigits(_ value: Int, separators: Bool, to out: inout [UInt8]) {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
    let start = writeDigits(value, separators: separators, into: buffer)
    out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
  }
}
