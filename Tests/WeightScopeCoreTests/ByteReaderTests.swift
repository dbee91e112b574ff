import Testing

@testable import WeightScopeCore

@Suite struct ByteReaderTests {
  let bytes = FileBytes(copying: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a])

  @Test func readsLittleEndianIntegersAndAdvances() throws {
    var reader = bytes.reader()
    #expect(try reader.readUInt8() == 0x01)
    #expect(try reader.readUInt16() == 0x0302)
    #expect(try reader.readUInt32() == 0x0706_0504)
    #expect(reader.position == 7)
    #expect(reader.remaining == 3)
  }

  @Test func peekDoesNotMove() throws {
    let reader = bytes.reader()
    #expect(try reader.peekUInt32(at: 6) == 0x0a09_0807)
    #expect(reader.position == 0)
  }

  @Test func truncationNamesTheOffsetAndWhatWasRead() throws {
    var reader = bytes.reader()
    try reader.skip(8)
    let error = try #require(throws: ReadError.self) { try reader.readUInt32("entry count") }
    #expect(error.kind == .truncated)
    #expect(error.offset == 8)
    #expect(error.message == "entry count needs 4 bytes, 2 left")
    #expect(reader.position == 8)
  }

  @Test func slicesShareStorageAndKeepAbsoluteOffsets() throws {
    var reader = bytes.reader()
    try reader.skip(2)
    var slice = try reader.readSlice(4)
    #expect(reader.position == 6)
    #expect(slice.start == 2 && slice.end == 6)
    #expect(try slice.readUInt8() == 0x03)
    try slice.skip(3)
    let error = try #require(throws: ReadError.self) { try slice.readUInt8() }
    #expect(error.offset == 6)
    #expect(throws: ReadError.self) { try slice.peekUInt8(at: 1) }
  }

  @Test func sliceOutsideTheRangeThrows() throws {
    let reader = bytes.reader()
    #expect(throws: ReadError.self) { try reader.slice(at: 8, count: 3) }
    #expect(throws: ReadError.self) { try reader.slice(at: -1, count: 1) }
    #expect(throws: ReadError.self) { try reader.slice(at: 0, count: -1) }
    #expect(try reader.slice(at: 10, count: 0).count == 0)
  }

  @Test func hugeCountsDoNotOverflow() throws {
    var reader = bytes.reader()
    #expect(throws: ReadError.self) { try reader.skip(Int.max) }
    #expect(throws: ReadError.self) { try reader.peekBytes(at: 5, count: Int.max - 2) }
  }

  @Test func errorsPrintContextOffsetAndMessage() {
    let error = ReadError(.malformed, at: 0x1a3f, "memo index 912 not defined", context: "opcode BINGET")
    #expect(error.within("data.pkl").description == "data.pkl: opcode BINGET at 0x1a3f: memo index 912 not defined")
    #expect(ReadError(.io, at: nil, "cannot open").description == "cannot open")
  }

  @Test func mapsARealFileAndRefusesFolders() throws {
    let mapped = try FileBytes(path: String(#filePath))
    #expect(mapped.count > 100)
    #expect(mapped.reader().matches(Array("import Testing".utf8), at: 0))
    let error = try #require(throws: ReadError.self) { try FileBytes(path: "/") }
    #expect(error.kind == .io)
    #expect(throws: ReadError.self) { try FileBytes(path: "/nonexistent/model.pt") }
  }
}

@Suite struct CheckedArithmeticTests {
  @Test func elementCountChecksOverflowAndSigns() throws {
    #expect(try elementCount([]) == 1)
    #expect(try elementCount([32, 3, 3, 3]) == 864)
    #expect(try elementCount([0, 5]) == 0)
    let overflow = try #require(throws: ReadError.self) { try elementCount([1 << 32, 1 << 32]) }
    #expect(overflow.kind == .overflow)
    let negative = try #require(throws: ReadError.self) { try elementCount([3, -1]) }
    #expect(negative.kind == .malformed)
  }

  @Test func printableEscapesBytes() {
    #expect(printable([0x50, 0x4b, 0x03, 0x04]) == "\"PK\\x03\\x04\"")
  }
}
