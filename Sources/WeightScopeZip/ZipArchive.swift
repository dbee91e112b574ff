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
  private let index: ZipNameIndex

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
      throw ReadError(
        .limitExceeded, at: end.recordOffset,
        "\(end.entryCount) entries exceed the limit of \(limits.zipEntries)",
        context: "end of central directory")
    }
    let directoryEnd = try end.directoryOffset.adding(
      end.directorySize, at: end.recordOffset, "central directory end")
    guard end.directoryOffset >= reader.start, directoryEnd <= end.recordOffset else {
      throw ReadError(
        .malformed, at: end.recordOffset,
        "central directory \(hex(end.directoryOffset))..<\(hex(directoryEnd)) is not before the end record at \(hex(end.recordOffset))",
        context: "end of central directory")
    }
    directoryOffset = end.directoryOffset

    let directory = try reader.slice(
      at: end.directoryOffset, count: end.directorySize, "central directory")
    reader.bytes.willNeed(end.directoryOffset..<directoryEnd)
    // Every header takes at least 46 bytes of directory; each parsed one, with its place in
    // the name index, takes about its own size again in heap.
    let headers = min(end.entryCount, end.directorySize / ZipSize.centralDirectoryHeader)
    HeapReserve.expect(bytes: headers * 2 * MemoryLayout<CentralDirectoryHeader>.stride)
    let parsed = CentralDirectoryHeader.parseAll(directory, count: end.entryCount)
    let index = ZipNameIndex(parsed.headers, reader: reader)
    // The first entry whose name an earlier entry has; a header that cannot be read after it
    // is not reached.
    if let (later, first) = index.duplicates.first {
      let header = parsed.headers[later]
      throw ReadError(
        .malformed, at: header.headerOffset,
        "duplicate entry name \"\(header.name(in: reader))\" (first at entry \(first))",
        context: "central directory")
    }
    if let failure = parsed.failure { throw failure }
    if !parsed.rest.isAtEnd {
      throw ReadError(
        .malformed, at: parsed.rest.position,
        "\(parsed.rest.remaining) bytes after the \(end.entryCount) entries the end record declares",
        context: "central directory")
    }
    self.entries = parsed.headers
    self.index = index
    topFolder = entries.first.map { Self.topFolder(of: $0, in: reader) } ?? ""
    try checkLayout()
  }

  /// The first entry of the directory `reader` ends with, read before the rest and without
  /// their checks; nil when it cannot be read. For a hint that cannot wait for the whole
  /// directory (the heap a checkpoint's pickle, which `torch.save` writes first, will take).
  public static func firstEntry(_ reader: ByteReader) -> (name: String, entry: CentralDirectoryHeader)? {
    guard let end = try? EndOfCentralDirectory(parsing: reader), end.entryCount > 0,
      end.directoryOffset >= reader.start,
      var directory = try? reader.slice(
        at: end.directoryOffset, count: min(end.directorySize, 64 << 10), "central directory"),
      let first = try? CentralDirectoryHeader(parsing: &directory)
    else { return nil }
    return (first.name(in: reader), first)
  }

  /// The name of `entry`'s folder: what comes before its first `/`, or "" when it has none.
  static func topFolder(of entry: CentralDirectoryHeader, in reader: ByteReader) -> String {
    if entry.nameIsASCII {
      // ASCII: the first `/` byte is the first `/` character.
      let bytes = entry.nameBytes(in: reader)
      guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return "" }
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<slash]), as: UTF8.self)
    }
    let name = entry.name(in: reader)
    guard let slash = name.firstIndex(of: "/") else { return "" }
    return String(name[..<slash])
  }

  /// Rejects entries whose data would lie outside the file, inside the directory, or inside
  /// another entry. Uses the directory's sizes only: no local header is read.
  private func checkLayout() throws(ReadError) {
    // Entry positions by offset: the directory's order when it is already sorted, as
    // writers leave it; otherwise a stable sort of integers, not headers.
    var order = Array(entries.indices)
    if !entries.indices.dropFirst().allSatisfy({
      entries[$0 - 1].localHeaderOffset <= entries[$0].localHeaderOffset
    }) {
      order.sort { entries[$0].localHeaderOffset < entries[$1].localHeaderOffset }
    }
    var previousEnd = reader.start
    var previous: Int?
    for position in order {
      let entry = entries[position]
      let start = entry.localHeaderOffset
      guard start >= previousEnd else {
        let previousName = previous.map { name(of: entries[$0]) } ?? ""
        throw ReadError(
          .malformed, at: start, "entry \"\(name(of: entry))\" overlaps entry \"\(previousName)\"",
          context: "central directory")
      }
      // The local header is at least 30 bytes plus the name; its extra field is not known yet.
      let minimum = try ZipSize.localFileHeader.adding(
        entry.nameRange.count, at: entry.headerOffset, "entry size")
      let end = try start.adding(minimum, at: entry.headerOffset, "entry end")
        .adding(entry.compressedSize, at: entry.headerOffset, "entry end")
      guard end <= directoryOffset else {
        throw ReadError(
          .malformed, at: entry.headerOffset,
          "entry \"\(name(of: entry))\" at \(hex(start)) with \(entry.compressedSize) bytes runs past the central directory at \(hex(directoryOffset))",
          context: "central directory")
      }
      previousEnd = end
      previous = position
    }
  }

  /// The name of `entry`, one of ``entries``.
  public func name(of entry: CentralDirectoryHeader) -> String {
    entry.name(in: reader)
  }

  /// Whether some entry's name starts with `prefix` (as `String.hasPrefix` says).
  public func containsEntry(withPrefix prefix: String) -> Bool {
    var prefix = prefix
    return prefix.withUTF8 { wanted in
      let wanted = UnsafeRawBufferPointer(wanted)
      // ASCII bytes compare as characters do, except a CR that a following LF joins.
      let asciiPrefix = isASCII(wanted) && wanted.last != UInt8(ascii: "\r")
      return entries.contains { entry in
        guard asciiPrefix, entry.nameIsASCII else {
          return name(of: entry).hasPrefix(String(decoding: wanted, as: UTF8.self))
        }
        let bytes = entry.nameBytes(in: reader)
        return bytes.count >= wanted.count
          && ZipNameIndex.equal(UnsafeRawBufferPointer(rebasing: bytes[..<wanted.count]), wanted)
      }
    }
  }

  /// The entry called `name`, exactly.
  public func entry(named name: String) -> CentralDirectoryHeader? {
    index.find(name, in: entries, reader: reader).map { entries[$0] }
  }

  /// The entry `<top folder>/<relative>`.
  public func entry(relative: String) -> CentralDirectoryHeader? {
    entry(named: topFolder.isEmpty ? relative : topFolder + "/" + relative)
  }

  /// The entries whose names start with `prefix` (a folder such as `archive/data/`), found by
  /// the rest of their names: a lookup joins no strings.
  public func folder(_ prefix: String) -> Folder {
    Folder(archive: self, prefix: prefix)
  }

  /// Entries of one folder of a ``ZipArchive``, by the rest of their names.
  ///
  /// Writers store records in the order a pickle names them (`data/0`, `data/1`, ...), so a
  /// lookup first compares the few entries after the one found last, reading the directory in
  /// order. A lookup that misses goes to a table built once: `torch.save` writes its records
  /// sorted as text (`0`, `1`, `10`, `100`, ...) while the pickle names them in numeric order,
  /// so decimal names are found in an array indexed by their number, and any other name in an
  /// index of the folder. Not for use from several threads at once.
  public final class Folder {
    private let archive: ZipArchive
    private let prefix: String
    /// The prefix's bytes, when the prefix and every name are ASCII (nil otherwise).
    private let prefixBytes: [UInt8]?
    private var index: ZipNameIndex?
    /// Entry index + 1 of the first entry named `prefix` + each canonical decimal below
    /// `entries.count` (no sign, no leading zero), 0 where there is none; built on the first
    /// miss when the prefix and every name are ASCII.
    private var decimal: [Int32]?
    /// The entry the last lookup found.
    private var last = -1
    /// How many entries after the last one found a lookup compares before the index.
    private static let window = 8

    init(archive: ZipArchive, prefix: String) {
      self.archive = archive
      self.prefix = prefix
      let bytes = Array(prefix.utf8)
      let ascii = bytes.withUnsafeBytes { isASCII($0) } && archive.entries.allSatisfy(\.nameIsASCII)
      prefixBytes = ascii ? bytes : nil
    }

    /// The entry called `prefix + name`, exactly as ``ZipArchive/entry(named:)`` finds it.
    public func entry(named name: String) -> CentralDirectoryHeader? {
      let entries = archive.entries
      if let prefixBytes {
        // Once the table is made, it answers every decimal name.
        if let table = decimal, let found = lookUp(name, in: table) { return found }
        // The few entries after the last one found (other records may sit in between).
        let window = (last + 1)..<min(last + 1 + Self.window, entries.count)
        var name = name
        let hit = name.withUTF8 { rest in
          prefixBytes.withUnsafeBytes { head -> Int? in
            // A query that is not ASCII goes to the index, which compares strings.
            let rest = UnsafeRawBufferPointer(rest)
            guard isASCII(rest) else { return nil }
            return window.first { i in
              let bytes = entries[i].nameBytes(in: archive.reader)
              return bytes.count == head.count + rest.count
                && ZipNameIndex.equal(UnsafeRawBufferPointer(rebasing: bytes[head.count...]), rest)
                && ZipNameIndex.equal(UnsafeRawBufferPointer(rebasing: bytes[..<head.count]), head)
            }
          }
        }
        if let hit {
          last = hit
          return entries[hit]
        }
        if decimal == nil {
          let table = decimalTable(prefixBytes)
          decimal = table
          if let found = lookUp(name, in: table) { return found }
        }
      }
      let index = index ?? ZipNameIndex(entries, reader: archive.reader, prefix: prefix)
      self.index = index
      guard let found = index.find(name, in: entries, reader: archive.reader) else { return nil }
      last = found
      return entries[found]
    }

    /// The answer `table` gives for `name`: nil when `name` is not a decimal it covers,
    /// `.some(nil)` when there is no such entry.
    private func lookUp(_ name: String, in table: [Int32]) -> CentralDirectoryHeader?? {
      var query = name
      guard let number = query.withUTF8({ canonicalDecimal(UnsafeRawBufferPointer($0)) }),
        number < table.count
      else { return nil }
      guard table[number] > 0 else { return .some(nil) }
      last = Int(table[number]) - 1
      return .some(archive.entries[last])
    }

    /// ``decimal``, for an ASCII prefix: one pass over the directory in order. A directory of
    /// more than 2^31 entries is beyond any limit; it is given no table.
    private func decimalTable(_ prefix: [UInt8]) -> [Int32] {
      let entries = archive.entries
      guard entries.count < Int32.max else { return [] }
      var table = [Int32](repeating: 0, count: entries.count)
      prefix.withUnsafeBytes { head in
        for i in entries.indices {
          let bytes = entries[i].nameBytes(in: archive.reader)
          guard bytes.count > head.count,
            ZipNameIndex.equal(UnsafeRawBufferPointer(rebasing: bytes[..<head.count]), head),
            let number = canonicalDecimal(UnsafeRawBufferPointer(rebasing: bytes[head.count...])),
            number < table.count, table[number] == 0
          else { continue }
          table[number] = Int32(i + 1)
        }
      }
      return table
    }

  }

  /// The file range of an entry's (possibly compressed) data, after reading its local header and
  /// checking it against the central directory.
  public func dataRange(of entry: CentralDirectoryHeader) throws(ReadError) -> Range<Int> {
    var local = try reader.slice(
      at: entry.localHeaderOffset, count: reader.end - entry.localHeaderOffset, "local header")
    let header: LocalFileHeader
    do {
      header = try LocalFileHeader(parsing: &local)
    } catch {
      throw error.within("local header of \(name(of: entry))")
    }
    func mismatch(_ what: String) -> ReadError {
      ReadError(
        .malformed, at: header.offset, "\(what) disagrees with the central directory",
        context: "local header of \(name(of: entry))")
    }
    let localName = UnsafeRawBufferPointer(rebasing: reader.bytes.buffer[header.nameRange])
    guard ZipNameIndex.equal(localName, entry.nameBytes(in: reader)) else {
      throw mismatch("name \(printable(localName, limit: 40))")
    }
    guard ZipMethod(header.method) == entry.method else {
      throw mismatch("compression method \(header.method)")
    }
    if !header.hasDataDescriptor {
      // Sizes of 0xffffffff defer to a zip64 extra field; anything else must agree.
      if header.compressedSize != 0xffff_ffff, Int(header.compressedSize) != entry.compressedSize {
        throw mismatch("compressed size \(header.compressedSize)")
      }
      if header.uncompressedSize != 0xffff_ffff,
        Int(header.uncompressedSize) != entry.uncompressedSize
      {
        throw mismatch("uncompressed size \(header.uncompressedSize)")
      }
      if header.crc32 != entry.crc32 { throw mismatch("crc-32 \(hex(Int(header.crc32)))") }
    }
    let end = try header.dataOffset.adding(
      entry.compressedSize, at: header.offset, "entry data end")
    guard end <= directoryOffset else {
      throw ReadError(
        .malformed, at: header.dataOffset,
        "data of \(entry.compressedSize) bytes runs into the central directory",
        context: "local header of \(name(of: entry))")
    }
    return header.dataOffset..<end
  }

  /// The uncompressed bytes of an entry: a no-copy slice when stored, inflated (up to
  /// `limits.inflatedBytes`) when deflated. Offsets in errors about inflated data are offsets
  /// in the entry.
  public func contents(of entry: CentralDirectoryHeader, limits: Limits = .default)
    throws(ReadError) -> ByteReader
  {
    guard !entry.isEncrypted else {
      throw ReadError(
        .unsupported, at: entry.headerOffset, "entry is encrypted", context: name(of: entry))
    }
    let range = try dataRange(of: entry)
    switch entry.method {
    case .stored:
      guard entry.compressedSize == entry.uncompressedSize else {
        throw ReadError(
          .malformed, at: entry.headerOffset,
          "stored entry has compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)",
          context: name(of: entry))
      }
      return try reader.slice(at: range.lowerBound, count: range.count, name(of: entry))
    case .deflated:
      let compressed = try reader.slice(at: range.lowerBound, count: range.count, name(of: entry))
      let bytes = try Inflate.inflate(
        compressed, expected: entry.uncompressedSize, limit: limits.inflatedBytes,
        label: name(of: entry))
      return bytes.reader()
    case .other(let raw):
      throw ReadError(
        .unsupported, at: entry.headerOffset, "compression method \(raw) is not supported",
        context: name(of: entry))
    }
  }

  /// Throws `.checksum` unless `data` (an entry's uncompressed bytes) has the entry's CRC-32.
  public func verifyCRC(of entry: CentralDirectoryHeader, data: ByteReader) throws(ReadError) {
    let actual = try CRC32.checksum(data)
    guard actual == entry.crc32 else {
      throw ReadError(
        .checksum, at: entry.headerOffset,
        "CRC-32 is \(hex(Int(actual))) but the central directory says \(hex(Int(entry.crc32)))",
        context: name(of: entry))
    }
  }
}
