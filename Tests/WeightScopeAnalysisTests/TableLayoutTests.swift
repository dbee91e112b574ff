import Testing

@testable import WeightScopeReport

/// The text table, against a plain character-by-character layout of the same cells.
@Suite struct TableLayoutTests {
  /// Columns padded by characters, joined with two spaces, trailing spaces trimmed by characters.
  private func reference(_ table: Table) -> [String] {
    var widths = table.header.map(\.count)
    for row in table.rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (i, cell) in cells.enumerated() {
        let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
        if table.alignments[i] == .right {
          parts.append(pad + cell)
        } else {
          parts.append(i == cells.count - 1 ? cell : cell + pad)
        }
      }
      var text = parts.joined(separator: "  ")
      while text.last == " " { text.removeLast() }
      return text
    }
    let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
    return [line(table.header), rule] + table.rows.map(line)
  }

  @Test func asciiAndOtherCellsMatchTheCharacterLayout() {
    var table = Table(
      header: ["Layer", "Kind", "Params", "Formula"], alignments: [.left, .left, .right, .left])
    table.rows = [
      ["conv1", "conv2d", "896", "((3*3*3)+1)*32"],
      ["blocks.0.é", "linear", "1,234", ""],
      ["", "", "", "running_mean/var 2x[64] = 128"],
      ["name ", "", "", ""],
      ["x\u{0600}", "", "", ""],
      ["e\u{301}e\u{301}", "bn", "12", "2*64  "],
      ["🙂🙂🙂🙂🙂🙂🙂🙂", "", "7", ""],
      ["tail   ", "kind", "", ""],
    ]
    var bytes: [UInt8] = []
    table.write(into: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == reference(table).map { $0 + "\n" }.joined())
  }

  /// Cells written into one buffer lay out as the same cells in strings do.
  @Test func cellTableMatchesTheStringTable() {
    var strings = Table(
      header: ["Layer", "Shape", "Params", "Formula"], alignments: [.left, .left, .right, .left])
    var cells = CellTable(header: strings.header, alignments: strings.alignments)
    let rows: [(String, [Int]?, Int?, String)] = [
      ("conv1", [32, 3, 3, 3], 896, "((3*3*3)+1)*32"),
      ("blocks.0.é", [], 1_234, ""),
      ("", nil, nil, "running_mean/var 2x[64] = 128"),
      ("a.very.long.module.path.that.is.capped", [7], -1_000_000, ""),
      ("e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}", nil, 12, "2*64  "),
      ("tail   ", nil, nil, ""),
      ("", nil, nil, ""),
    ]
    for (name, shape, params, formula) in rows {
      strings.rows.append([
        capped(name, 12), shape.map(shapeText) ?? "", params.map(grouped) ?? "", formula,
      ])
      cells.add(name, cappedAt: 12)
      if let shape { cells.add(shape: shape) } else { cells.addEmpty() }
      if let params { cells.add(grouped: params) } else { cells.addEmpty() }
      cells.add(formula)
      cells.endRow()
    }
    var expected: [UInt8] = []
    strings.write(into: &expected)
    var bytes: [UInt8] = []
    cells.write(into: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    #expect(cells.rowCount == rows.count)
  }

  @Test func cellCountsAreCharacters() {
    #expect(characterCount("weight") == 6)
    #expect(characterCount("e\u{301}") == 1)
    #expect(characterCount("🙂x") == 2)
    #expect(characterCount("") == 0)
    #expect(capped("abcdefghij", 6) == "...hij")
    #expect(capped("e\u{301}e\u{301}e\u{301}e\u{301}e\u{301}", 4) == "...e\u{301}")
    #expect(grouped(5_853_133) == "5,853,133")
    #expect(grouped(-1_000) == "-1,000")
    #expect(grouped(999) == "999")
    #expect(grouped(0) == "0")
    #expect(grouped(1_000) == "1,000")
    #expect(grouped(Int.max) == "9,223,372,036,854,775,807")
    #expect(grouped(Int.min) == "-9,223,372,036,854,775,808")
    #expect(shapeText([32, 3, 3, 3]) == "[32, 3, 3, 3]")
    #expect(shapeText([]) == "[]")
  }
}
