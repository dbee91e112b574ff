import Testing
import WeightScopeCore

@testable import WeightScopeZip

private func fixture(_ name: String) throws -> FileBytes {
  let here = String(#filePath)
  let folder = here[..<(here.lastIndex(of: "/") ?? here.startIndex)]
  return try FileBytes(path: "\(folder)/Fixtures/\(name)")
}

private func open(_ name: String) throws -> ZipArchive {
  try ZipArchive(try fixture(name).reader())
}

/// A zip of stored (uncompressed) entries, each holding its own name, written in the order
/// given.
private func storedZip(_ names: [String]) -> FileBytes {
  var bytes: [UInt8] = []
  var directory: [UInt8] = []
  func put<T: FixedWidthInteger>(_ value: T, _ into: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { into += $0 }
  }
  for name in names {
    let data = Array(name.utf8)
    let crc = (try? CRC32.checksum(FileBytes(copying: data).reader())) ?? 0
    let offset = UInt32(bytes.count)
    for into in [0, 1] {
      var header: [UInt8] = []
      put(UInt32(into == 0 ? 0x0403_4b50 : 0x0201_4b50), &header)
      if into == 1 { put(UInt16(20), &header) }  // Made by.
      for field: UInt16 in [20, 0, 0, 0, 0] { put(field, &header) }  // Version ... date.
      put(crc, &header)
      put(UInt32(data.count), &header)
      put(UInt32(data.count), &header)
      put(UInt16(data.count), &header)  // Name length.
      put(UInt16(0), &header)  // Extra length.
      if into == 1 {
        for field: UInt16 in [0, 0, 0] { put(field, &header) }  // Comment, disk, attributes.
        put(UInt32(0), &header)
        put(offset, &header)
      }
      header += data
      if into == 0 { bytes += header + data } else { directory += header }
    }
  }
  let directoryOffset = UInt32(bytes.count)
  bytes += directory
  put(UInt32(0x0605_4b50), &bytes)
  for field: UInt16 in [0, 0, UInt16(names.count), UInt16(names.count)] { put(field, &bytes) }
  put(UInt32(directory.count), &bytes)
  put(directoryOffset, &bytes)
  put(UInt16(0), &bytes)
  return FileBytes(copying: bytes)
}

@Suite struct ZipArchiveTests {
  @Test func readsStoredEntriesAndTheTopFolder() throws {
    let zip = try open("stored.zip")
    #expect(zip.topFolder == "model")
    #expect(zip.entries.map(zip.name(of:)) == ["model/data.pkl", "model/data/0", "model/version"])
    let entry = try #require(zip.entry(relative: "data.pkl"))
    #expect(entry.method == .stored)
    let data = try zip.contents(of: entry)
    #expect(data.count == 1024)
    #expect(try data.peekUInt8(at: data.start + 255) == 255)
    try zip.verifyCRC(of: entry, data: data)
    #expect(zip.entry(relative: "data/0")?.uncompressedSize == 64)
  }

  /// The first record, read ahead of the directory: the same header the archive gives.
  @Test func firstEntryIsReadBeforeTheDirectory() throws {
    let bytes = try fixture("stored.zip")
    let first = try #require(ZipArchive.firstEntry(bytes.reader()))
    #expect(first.name == "model/data.pkl")
    #expect(first.entry == (try open("stored.zip")).entries.first)
    #expect(ZipArchive.firstEntry(storedZip([]).reader()) == nil)
    #expect(ZipArchive.firstEntry(FileBytes(copying: Array("not a zip".utf8)).reader()) == nil)
    // Of several records, the first.
    let zip = storedZip(["a/data.pkl", "a/data/0"])
    #expect(ZipArchive.firstEntry(zip.reader())?.name == "a/data.pkl")
  }

  @Test func inflatesDeflatedEntries() throws {
    let zip = try open("deflated.zip")
    #expect(zip.topFolder == "top")
    let entry = try #require(zip.entry(relative: "data.pkl"))
    #expect(entry.method == .deflated)
    let data = try zip.contents(of: entry)
    #expect(data.count == 8192)
    #expect(try data.peekUInt8(at: 4097) == 1)
    try zip.verifyCRC(of: entry, data: data)
  }

  @Test func inflationStopsAtTheLimit() throws {
    let zip = try open("deflated.zip")
    let entry = try #require(zip.entry(relative: "data.pkl"))
    var limits = Limits()
    limits.inflatedBytes = 4096
    #expect {
      _ = try zip.contents(of: entry, limits: limits)
    } throws: { ($0 as? ReadError)?.kind == .limitExceeded }
  }

  @Test func readsZip64Records() throws {
    let zip = try open("zip64.zip")
    #expect(zip.isZip64)
    #expect(zip.entries.count == 2)
    let entry = try #require(zip.entry(relative: "data/0"))
    #expect(try zip.contents(of: entry).count == 32)
  }

  @Test func ignoresAnEndRecordInsideTheComment() throws {
    let zip = try open("comment.zip")
    #expect(zip.entries.map(zip.name(of:)) == ["a/data.pkl"])
  }

  @Test func readsAnEmptyArchive() throws {
    let zip = try open("empty.zip")
    #expect(zip.entries.isEmpty)
    #expect(zip.topFolder == "")
  }

  @Test func reportsACRCMismatch() throws {
    let zip = try open("bad_crc.zip")
    let entry = try #require(zip.entry(relative: "data.pkl"))
    let data = try zip.contents(of: entry)
    let error = try #require(throws: ReadError.self) { try zip.verifyCRC(of: entry, data: data) }
    #expect(error.kind == .checksum)
    #expect(error.context == "c/data.pkl")
  }

  @Test func rejectsDuplicateNames() throws {
    let error = try #require(throws: ReadError.self) { try open("duplicate.zip") }
    #expect(error.kind == .malformed)
    #expect(error.message.contains("duplicate entry name \"d/data.pkl\""))
  }

  @Test func crossChecksTheLocalHeader() throws {
    let zip = try open("local_name_mismatch.zip")
    let entry = try #require(zip.entry(relative: "data.pkl"))
    let error = try #require(throws: ReadError.self) { try zip.contents(of: entry) }
    #expect(error.kind == .malformed)
    #expect(error.offset == 0)
    #expect(error.message.contains("e/evil.pkl"))
  }

  @Test func rejectsOverlappingEntries() throws {
    let error = try #require(throws: ReadError.self) { try open("overlap.zip") }
    #expect(error.kind == .malformed)
    #expect(error.message.contains("overlaps"))
  }

  @Test func findsEntriesOfAFolderByTheRestOfTheirNames() throws {
    let zip = try open("stored.zip")
    let data = zip.folder("model/data/")
    #expect(data.entry(named: "0") == zip.entry(named: "model/data/0"))
    #expect(data.entry(named: "0")?.uncompressedSize == 64)
    #expect(data.entry(named: "1") == nil)
    #expect(data.entry(named: "") == nil)
    #expect(zip.folder("").entry(named: "model/version") == zip.entry(relative: "version"))
    #expect(zip.folder("model/").entry(named: "data.pkl") == zip.entry(relative: "data.pkl"))
    // Canonically equivalent spellings name one entry, as with a dictionary of strings.
    #expect(zip.folder("model/data/").entry(named: "0\u{301}") == nil)
    #expect(zip.containsEntry(withPrefix: "model/da"))
    #expect(!zip.containsEntry(withPrefix: "model/code/"))
  }

  /// Records as `torch.save` writes them, sorted as text, looked up in numeric order and
  /// every other way: a folder finds exactly what the whole archive finds.
  @Test func folderFindsDecimalNamesAsTheArchiveDoes() throws {
    let keys = (0..<40).map(String.init).sorted() + ["050", "x", "7a", "-1", "123456789"]
    let zip = try ZipArchive(storedZip(["m/data.pkl"] + keys.map { "m/data/" + $0 }).reader())
    let data = zip.folder("m/data/")
    let queries =
      (0..<45).map(String.init) + (0..<40).reversed().map(String.init)
      + ["050", "50", "x", "7a", "-1", "+1", "", "0\u{301}", "123456789", "0123", "1234567890"]
    for query in queries {
      #expect(data.entry(named: query) == zip.entry(named: "m/data/" + query), "\(query)")
    }
    #expect(data.entry(named: "39")?.uncompressedSize == "m/data/39".utf8.count)
    #expect(zip.folder("m/").entry(named: "data/5") == zip.entry(named: "m/data/5"))
  }

  /// The bitwise definition of zip's CRC-32.
  static func referenceCRC(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }

  @Test func crcMatchesTheDefinitionAtEveryLengthAndAlignment() throws {
    var state: UInt32 = 12345
    let bytes = (0..<70_000).map { _ -> UInt8 in
      state = state &* 1_103_515_245 &+ 12345
      return UInt8(truncatingIfNeeded: state >> 16)
    }
    let file = FileBytes(copying: bytes)
    for start in 0..<4 {
      for count in Array(0..<300) + [1023, 1024, 4097, 65_536] {
        let reader = try file.reader().slice(at: start, count: count)
        #expect(
          try CRC32.checksum(reader) == Self.referenceCRC(bytes[start..<(start + count)]),
          "\(start) \(count)")
      }
    }
  }

  @Test func rejectsWhatIsNotAZip() throws {
    let bytes = FileBytes(copying: Array("this is not a zip archive at all".utf8))
    let error = try #require(throws: ReadError.self) { try ZipArchive(bytes.reader()) }
    #expect(error.kind == .badMagic)
    #expect(!ZipArchive.looksLikeZip(bytes.reader()))
  }

  @Test(arguments: ["stored.zip", "deflated.zip", "zip64.zip", "comment.zip"])
  func everyTruncatedPrefixThrows(name: String) throws {
    let whole = try fixture(name)
    let all = Array(whole.buffer)
    for length in 0..<all.count {
      let prefix = FileBytes(copying: all[0..<length])
      #expect(throws: ReadError.self) {
        let zip = try ZipArchive(prefix.reader())
        for entry in zip.entries {
          let data = try zip.contents(of: entry)
          try zip.verifyCRC(of: entry, data: data)
        }
      }
    }
  }
}
