import WeightScopeCore

/// A zip archive read through its central directory, without touching entry data until asked.
///
/// Opening reads the end record and the central directory only. An entry's local header is read
/// (and cross-checked against the directory) when its data is requested, so listing the
/// storages of a multi-gigabyte checkpoint touches none of them.
public struct ZipArchive: Sendable {
  public let reader: ByteReader
  /// Entries in central-directory order.
  public let entries: [CentralDirectoryHeader]
  /// The folder every entry sits in, taken from the first entry (`archive` for most torch files).
  public let topFolder: String
  /// Offset of the first byte of the central directory.
  public let directoryOffset: Int
  public let isZip64: Bool
  private let index: [String: Int]

  /// Whether the bytes start with a local file header or an empty archive's end record.
  public static func looksLikeZip(_ reader: ByteReader) -> Bool {
    reader.matches([0x50, 0x4b, 0x03, 0x04], at: reader.start)
      || reader.matches([0x50, 0x4b, 0x05, 0x06], at: reader.start)
  }

  /// Reads the end record and the central directory.
  ///
  /// - Throws: `.badMagic` when there is no end record, `.malformed` for duplicate names,
  ///   overlapping entries or a directory outside the file, `.limitExceeded` past
  ///   ``Limits/zipEntries``.
  public init(_ reader: ByteReader, limits: Limits = .default) throws(ReadError) {
    self.reader = reader
    let end = try EndOfCentralDirectory(parsing: reader)
    isZip64 = end.isZip64
    guard end.entryCount <= limits.zipEntries else {
      throw ReadError(.limitExceeded, at: end.recordOffset, "\(end.entryCount) entries exceed the limit of \(limits.zipEntries)", context: "end of central directory")
    }
    let directoryEnd = try end.directoryOffset.adding(end.directorySize, at: end.recordOffset, "central directory end")
    guard end.directoryOffset >= reader.start, directoryEnd <= end.recordOffset else {
      throw ReadError(.malformed, at: end.recordOffset, "central directory \(hex(end.directoryOffset))..<\(hex(directoryEnd)) is not before the end record at \(hex(end.recordOffset))", context: "end of central directory")
    }
    directoryOffset = end.directoryOffset

    var directory = try reader.slice(at: end.directoryOffset, count: end.directorySize, "central directory")
    var entries: [CentralDirectoryHeader] = []
    var index: [String: Int] = [:]
    while entries.count < end.entryCount {
      let header: CentralDirectoryHeader
      do {
        header = try CentralDirectoryHeader(parsing: &directory)
      } catch {
        throw error.within("central directory entry \(entries.count)")
      }
      // One hash per entry: insert, and fail (keeping nothing) when the name was there.
      if let first = index.updateValue(entries.count, forKey: header.name) {
        throw ReadError(.malformed, at: header.headerOffset, "duplicate entry name \"\(header.name)\" (first at entry \(first))", context: "central directory")
      }
      entries.append(header)
    }
    if !directory.isAtEnd {
      throw ReadError(.malformed, at: directory.position, "\(directory.remaining) bytes after the \(end.entryCount) entries the end record declares", context: "central directory")
    }
    self.entries = entries
    self.index = index
    if let first = entries.first, let slash = first.name.firstIndex(of: "/") {
      topFolder = String(first.name[..<slash])
    } else {
      topFolder = ""
    }
    try checkLayout()
  }

  /// Rejects entries whose data would lie outside the file, inside the directory, or inside
  /// another entry. Uses the directory's sizes only: no local header is read.
  private func checkLayout() throws(ReadError) {
    // Entry positions sorted by offset: moving integers, not headers.
    let spans = entries.indices.map { ($0, entries[$0].localHeaderOffset) }.sorted { $0.1 < $1.1 }
    var previousEnd = reader.start
    var previousName = ""
    for (position, start) in spans {
      let entry = entries[position]
      guard start >= previousEnd else {
        throw ReadError(.malformed, at: start, "entry \"\(entry.name)\" overlaps entry \"\(previousName)\"", context: "central directory")
      }
      // The local header is at least 30 bytes plus the name; its extra field is not known yet.
      let minimum = try ZipSize.localFileHeader.adding(entry.nameBytes.count, at: entry.headerOffset, "entry size")
      let end = try start.adding(minimum, at: entry.headerOffset, "entry end")
        .adding(entry.compressedSize, at: entry.headerOffset, "entry end")
      guard end <= directoryOffset else {
        throw ReadError(.malformed, at: entry.headerOffset, "entry \"\(entry.name)\" at \(hex(start)) with \(entry.compressedSize) bytes runs past the central directory at \(hex(directoryOffset))", context: "central directory")
      }
      previousEnd = end
      previousName = entry.name
    }
  }

  /// The entry called `name`, exactly.
  public func entry(named name: String) -> CentralDirectoryHeader? {
    index[name].map { entries[$0] }
  }

  /// The entry `<top folder>/<relative>`.
  public func entry(relative: String) -> CentralDirectoryHeader? {
    entry(named: topFolder.isEmpty ? relative : topFolder + "/" + relative)
  }

  /// The file range of an entry's (possibly compressed) data, after reading its local header and
  /// checking it against the central directory.
  public func dataRange(of entry: CentralDirectoryHeader) throws(ReadError) -> Range<Int> {
    var local = try reader.slice(at: entry.localHeaderOffset, count: reader.end - entry.localHeaderOffset, "local header")
    let header: LocalFileHeader
    do {
      header = try LocalFileHeader(parsing: &local)
    } catch {
      throw error.within("local header of \(entry.name)")
    }
    func mismatch(_ what: String) -> ReadError {
      ReadError(.malformed, at: header.offset, "\(what) disagrees with the central directory", context: "local header of \(entry.name)")
    }
    guard header.nameBytes == entry.nameBytes else { throw mismatch("name \(printable(header.nameBytes, limit: 40))") }
    guard ZipMethod(header.method) == entry.method else { throw mismatch("compression method \(header.method)") }
    if !header.hasDataDescriptor {
      // Sizes of 0xffffffff defer to a zip64 extra field; anything else must agree.
      if header.compressedSize != 0xffff_ffff, Int(header.compressedSize) != entry.compressedSize {
        throw mismatch("compressed size \(header.compressedSize)")
      }
      if header.uncompressedSize != 0xffff_ffff, Int(header.uncompressedSize) != entry.uncompressedSize {
        throw mismatch("uncompressed size \(header.uncompressedSize)")
      }
      if header.crc32 != entry.crc32 { throw mismatch("crc-32 \(hex(Int(header.crc32)))") }
    }
    let end = try header.dataOffset.adding(entry.compressedSize, at: header.offset, "entry data end")
    guard end <= directoryOffset else {
      throw ReadError(.malformed, at: header.dataOffset, "data of \(entry.compressedSize) bytes runs into the central directory", context: "local header of \(entry.name)")
    }
    return header.dataOffset..<end
  }

  /// The uncompressed bytes of an entry: a no-copy slice when stored, inflated (up to
  /// `limits.inflatedBytes`) when deflated. Offsets in errors about inflated data are offsets
  /// in the entry.
  public func contents(of entry: CentralDirectoryHeader, limits: Limits = .default) throws(ReadError) -> ByteReader {
    guard !entry.isEncrypted else {
      throw ReadError(.unsupported, at: entry.headerOffset, "entry is encrypted", context: entry.name)
    }
    let range = try dataRange(of: entry)
    switch entry.method {
    case .stored:
      guard entry.compressedSize == entry.uncompressedSize else {
        throw ReadError(.malformed, at: entry.headerOffset, "stored entry has compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)", context: entry.name)
      }
      return try reader.slice(at: range.lowerBound, count: range.count, entry.name)
    case .deflated:
      let compressed = try reader.slice(at: range.lowerBound, count: range.count, entry.name)
      let bytes = try Inflate.inflate(compressed, expected: entry.uncompressedSize, limit: limits.inflatedBytes, label: entry.name)
      return bytes.reader()
    case .other(let raw):
      throw ReadError(.unsupported, at: entry.headerOffset, "compression method \(raw) is not supported", context: entry.name)
    }
  }

  /// Throws `.checksum` unless `data` (an entry's uncompressed bytes) has the entry's CRC-32.
  public func verifyCRC(of entry: CentralDirectoryHeader, data: ByteReader) throws(ReadError) {
    let actual = try CRC32.checksum(data)
    guard actual == entry.crc32 else {
      throw ReadError(.checksum, at: entry.headerOffset, "CRC-32 is \(hex(Int(actual))) but the central directory says \(hex(Int(entry.crc32)))", context: entry.name)
    }
  }
}
