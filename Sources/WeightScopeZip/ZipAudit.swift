import WeightScopeCore
import WeightScopeModel

/// A zip archive checked entry by entry for the tricks that make two readers see two archives.
///
/// Unlike ``ZipArchive``, which refuses an inconsistent archive and reads no local header until
/// asked, the audit tolerates what it can, reads every local header (and, when asked, every
/// entry's data to check its CRC), and reports each inconsistency as a ``Finding``:
/// local header vs. central directory, duplicate names, overlapping entries, bytes before the
/// archive, an end record hidden in the comment, CRC errors. Codes start with `zip.`.
public struct ZipAudit: Sendable {
  /// One central-directory entry and what its local header said.
  public struct Entry: Sendable {
    public var header: CentralDirectoryHeader
    /// The range of the entry's stored (maybe compressed) bytes, when the local header could be
    /// read and the data lies inside the file.
    public var dataRange: Range<Int>?
    /// Whether the entry is a tensor storage record (``ZipAudit/isStorage(_:)-swift.method``).
    public var isStorage: Bool
  }

  /// The audited entries in directory order, duplicates included, each made when read from
  /// the headers (shared with a ``ZipArchive`` that opened them) and what the audit found.
  public struct Entries: RandomAccessCollection, Sendable {
    /// The directory's headers.
    public let headers: [CentralDirectoryHeader]
    /// Whether each entry is a storage record (``ZipAudit/isStorage(_:)-swift.method``).
    public let storage: [Bool]
    /// The entries whose local header was read and whose data lies in the file, by
    /// ascending entry index.
    let ranges: [(entry: Int, range: Range<Int>)]

    public var startIndex: Int { 0 }
    public var endIndex: Int { headers.count }

    public subscript(position: Int) -> Entry {
      Entry(header: headers[position], dataRange: dataRange(of: position), isStorage: storage[position])
    }

    /// The data range of entry `index`, found by a binary search over the few entries read.
    func dataRange(of index: Int) -> Range<Int>? {
      var low = 0
      var high = ranges.count
      while low < high {
        let middle = (low + high) / 2
        if ranges[middle].entry < index { low = middle + 1 } else { high = middle }
      }
      return low < ranges.count && ranges[low].entry == index ? ranges[low].range : nil
    }
  }

  public let reader: ByteReader
  /// Every entry in directory order, duplicates included.
  public private(set) var entries = Entries(headers: [], storage: [], ranges: [])
  public private(set) var findings: [Finding] = []
  /// Offset of the first local header the directory names (bytes before it are not zip data).
  public private(set) var archiveStart: Int
  /// Offset of the central directory.
  public let directoryOffset: Int

  /// Audits the archive in `reader`.
  ///
  /// - Parameter checkData: read every local header, inflate every entry (up to
  ///   ``Limits/inflatedBytes``) and compare its CRC-32. Without it, the local headers of
  ///   storages (``isStorage(_:)``) are not read and no CRC is checked: a listing's cost.
  /// - Throws: ``ReadError`` only when there is no readable end record or central directory.
  public init(_ reader: ByteReader, limits: Limits = .default, checkData: Bool = true)
    throws(ReadError)
  {
    try self.init(reader, limits: limits, checkData: checkData, opened: nil)
  }

  /// Audits the archive that `archive` has opened, reusing its directory instead of parsing
  /// it again. The archive refused duplicate names and bytes after the declared entries, so
  /// those checks have nothing to find; every other check runs as for a reader.
  public init(_ archive: ZipArchive, limits: Limits = .default, checkData: Bool = true)
    throws(ReadError)
  {
    try self.init(archive.reader, limits: limits, checkData: checkData, opened: archive.entries)
  }

  private init(
    _ reader: ByteReader, limits: Limits, checkData: Bool, opened: [CentralDirectoryHeader]?
  ) throws(ReadError) {
    self.reader = reader
    let end = try EndOfCentralDirectory(parsing: reader)
    guard end.entryCount <= limits.zipEntries else {
      throw ReadError(
        .limitExceeded, at: end.recordOffset,
        "\(end.entryCount) entries exceed the limit of \(limits.zipEntries) (Limits.zipEntries)",
        context: "end of central directory")
    }
    directoryOffset = end.directoryOffset
    archiveStart = end.directoryOffset
    findHiddenEndRecord(end)

    let headers: [CentralDirectoryHeader]
    if let opened {
      headers = opened
    } else {
      let directory = try reader.slice(
        at: end.directoryOffset, count: end.directorySize, "central directory")
      let parsed = CentralDirectoryHeader.parseAll(directory, count: end.entryCount)
      if let failure = parsed.failure { throw failure }
      if !parsed.rest.isAtEnd {
        add(
          .warning, "zip.directory-slack",
          "\(parsed.rest.remaining) bytes in the central directory after the \(end.entryCount) "
            + "entries the end record declares", parsed.rest.position)
      }
      headers = parsed.headers
    }
    var storage: [Bool] = []
    storage.reserveCapacity(headers.count)
    var ranges: [(entry: Int, range: Range<Int>)] = []
    let file = reader.bytes.buffer
    for (i, header) in headers.enumerated() {
      archiveStart = min(archiveStart, header.localHeaderOffset)
      let isStorage =
        header.nameIsASCII
        ? Self.isStorage(ascii: UnsafeRawBufferPointer(rebasing: file[header.nameRange]))
        : self.isStorage(header)
      storage.append(isStorage)
      if checkData || !isStorage, let range = localData(header) { ranges.append((i, range)) }
    }
    entries = Entries(headers: headers, storage: storage, ranges: ranges)
    if archiveStart > reader.start {
      add(
        .warning, "zip.prefix-data",
        "\(archiveStart - reader.start) bytes before the first entry: data that is not part of "
          + "the archive (torch.load reads a file that does not start with a zip header as a "
          + "legacy pickle)", reader.start)
    }
    if opened == nil { findDuplicates(ZipNameIndex(headers, reader: reader)) }
    findOverlaps()
    if checkData {
      for (i, _) in entries.ranges { checkCRC(entries[i], limits: limits) }
    }
  }

  /// Whether `name` is a tensor storage record: `<top>/data/<key>` (or `data/<key>`).
  public static func isStorage(_ name: String) -> Bool {
    var name = name
    if let answer = name.withUTF8({ isStorage(utf8: $0) }) { return answer }
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    return (parts.count == 3 && parts[1] == "data") || (parts.count == 2 && parts[0] == "data")
  }

  /// Whether the entry is a tensor storage record, decided from its name's bytes.
  public func isStorage(_ header: CentralDirectoryHeader) -> Bool {
    Self.isStorage(header, in: reader)
  }

  /// Whether `header`, parsed from `reader`, is a tensor storage record.
  public static func isStorage(_ header: CentralDirectoryHeader, in reader: ByteReader) -> Bool {
    guard header.nameIsASCII else { return isStorage(header.name(in: reader)) }
    return isStorage(ascii: header.nameBytes(in: reader))
  }

  /// ``isStorage(_:)-swift.type.method`` for an ASCII name: `data/<key>` or `<top>/data/<key>`
  /// with no `/` in the key.
  static func isStorage(ascii name: UnsafeRawBufferPointer) -> Bool {
    let slash = UInt8(ascii: "/")
    var slashes = 0
    var first = 0
    var second = 0
    for i in 0..<name.count where name[i] == slash {
      slashes += 1
      if slashes == 1 {
        first = i
      } else if slashes == 2 {
        second = i
      } else {
        return false
      }
    }
    func isData(_ from: Int, _ to: Int) -> Bool {
      to - from == 4 && name[from] == UInt8(ascii: "d") && name[from + 1] == UInt8(ascii: "a")
        && name[from + 2] == UInt8(ascii: "t") && name[from + 3] == UInt8(ascii: "a")
    }
    switch slashes {
    case 1: return isData(0, first)
    case 2: return isData(first + 1, second)
    default: return false
    }
  }

  /// The name of `header`, one of the audited entries.
  public func name(of header: CentralDirectoryHeader) -> String {
    header.name(in: reader)
  }

  /// ``isStorage(_:)-swift.type.method`` on ASCII bytes, without building a string; nil for a
  /// name with other bytes, where a `/` may join the character after it.
  static func isStorage(utf8 name: UnsafeBufferPointer<UInt8>) -> Bool? {
    let raw = UnsafeRawBufferPointer(name)
    return isASCII(raw) ? isStorage(ascii: raw) : nil
  }

  /// The uncompressed bytes of `entry`, inflated up to ``Limits/inflatedBytes``.
  public func contents(of entry: Entry, limits: Limits = .default) throws(ReadError) -> ByteReader {
    let header = entry.header
    guard let range = entry.dataRange else {
      throw ReadError(
        .malformed, at: header.localHeaderOffset, "local header is unreadable", context: name(of: header))
    }
    guard !header.isEncrypted else {
      throw ReadError(.unsupported, at: header.headerOffset, "entry is encrypted", context: name(of: header))
    }
    let stored = try reader.slice(at: range.lowerBound, count: range.count, name(of: header))
    switch header.method {
    case .stored:
      return stored
    case .deflated:
      return try Inflate.inflate(
        stored, expected: header.uncompressedSize, limit: limits.inflatedBytes, label: name(of: header)
      ).reader()
    case .other(let raw):
      throw ReadError(
        .unsupported, at: header.headerOffset, "compression method \(raw) is not supported",
        context: name(of: header))
    }
  }

  // MARK: Checks

  private mutating func add(
    _ severity: Finding.Severity, _ code: String, _ message: String, _ offset: Int?
  ) {
    findings.append(Finding(severity, code, message, offset: offset))
  }

  /// An end record inside another one's comment: readers that take the first record from the
  /// end (Python's `zipfile`, PyTorch's miniz, this one) and readers that take the earlier one,
  /// or that stream local headers from the start, see two different archives.
  private mutating func findHiddenEndRecord(_ end: EndOfCentralDirectory) {
    // A signature inside the chosen record's own comment.
    if let offset = lastEndSignature(
      from: reader.end - 4, downTo: end.recordOffset + ZipSize.endOfCentralDirectory,
      where: { _ in true })
    {
      add(
        .warning, "zip.hidden-end-record",
        "a second end-of-central-directory record at \(hex(offset)) hides in the archive "
          + "comment; readers that search backwards for the signature see a different archive",
        offset)
      return
    }
    // An earlier record whose comment covers the chosen one.
    let lowest = max(reader.start, end.recordOffset - ZipSize.maxComment - ZipSize.endOfCentralDirectory)
    let reader = reader
    if let offset = lastEndSignature(
      from: end.recordOffset - 1, downTo: lowest,
      where: { offset in
        guard let length = try? reader.peekUInt16(at: offset + 20) else { return false }
        return offset + ZipSize.endOfCentralDirectory + Int(length) == reader.end
      })
    {
      add(
        .warning, "zip.hidden-end-record",
        "the end record at \(hex(end.recordOffset)) sits in the comment of another end record "
          + "at \(hex(offset)); readers disagree on which directory is the archive's", offset)
    }
  }

  /// The highest offset in `low...high` where the end-record signature `PK\5\6` starts and
  /// `accept` holds.
  ///
  /// The four signature bytes differ, so a byte that is none of them rules out the four
  /// starts that would cover it: most steps skip four bytes.
  private func lastEndSignature(
    from high: Int, downTo low: Int, where accept: (Int) -> Bool
  ) -> Int? {
    guard high >= low, low >= reader.start, high <= reader.end - 4,
      let window = try? reader.peekBytes(at: low, count: high + 4 - low)
    else { return nil }
    var i = high - low
    while i >= 0 {
      switch window[i] {
      case 0x50:
        if window[i + 1] == 0x4b, window[i + 2] == 0x05, window[i + 3] == 0x06, accept(low + i) {
          return low + i
        }
        i -= 4
      case 0x4b: i -= 1
      case 0x05: i -= 2
      case 0x06: i -= 3
      default: i -= 4
      }
    }
    return nil
  }

  /// Reads the local header of `header` and reports every field that disagrees with the
  /// directory; returns the data range when it lies inside the file.
  private mutating func localData(_ header: CentralDirectoryHeader) -> Range<Int>? {
    var name: String { self.name(of: header) }
    let local: LocalFileHeader
    do {
      var r = try reader.slice(
        at: header.localHeaderOffset, count: max(0, reader.end - header.localHeaderOffset))
      local = try LocalFileHeader(parsing: &r)
    } catch {
      add(
        .warning, "zip.local-header",
        "local header of \"\(name)\" is unreadable: \(error)", header.localHeaderOffset)
      return nil
    }
    func mismatch(_ what: String, _ localValue: String, _ directoryValue: String) {
      add(
        .warning, "zip.local-mismatch",
        "local header of \"\(name)\" says \(what) \(localValue), the central directory "
          + directoryValue, local.offset)
    }
    let localName = UnsafeRawBufferPointer(rebasing: reader.bytes.buffer[local.nameRange])
    let directoryName = header.nameBytes(in: reader)
    if !ZipNameIndex.equal(localName, directoryName) {
      mismatch("name", printable(localName, limit: 60), printable(directoryName, limit: 60))
    }
    if ZipMethod(local.method) != header.method {
      mismatch("compression method", "\(local.method)", header.method.name)
    }
    if local.flags != header.flags {
      mismatch("flags", hex(Int(local.flags)), hex(Int(header.flags)))
    }
    if !local.hasDataDescriptor {
      if local.compressedSize != 0xffff_ffff, Int(local.compressedSize) != header.compressedSize {
        mismatch("compressed size", "\(local.compressedSize)", "\(header.compressedSize)")
      }
      if local.uncompressedSize != 0xffff_ffff,
        Int(local.uncompressedSize) != header.uncompressedSize
      {
        mismatch("uncompressed size", "\(local.uncompressedSize)", "\(header.uncompressedSize)")
      }
      if local.crc32 != header.crc32 {
        mismatch("CRC-32", hex(Int(local.crc32)), hex(Int(header.crc32)))
      }
    }
    let (end, overflow) = local.dataOffset.addingReportingOverflow(header.compressedSize)
    guard !overflow, end <= reader.end else {
      add(
        .warning, "zip.entry-bounds",
        "data of \"\(name)\" (\(header.compressedSize) bytes at \(hex(local.dataOffset))) runs "
          + "past the end of the file", local.dataOffset)
      return nil
    }
    if end > directoryOffset {
      add(
        .warning, "zip.entry-bounds",
        "data of \"\(name)\" runs into the central directory at \(hex(directoryOffset))",
        local.dataOffset)
    }
    return local.dataOffset..<end
  }

  /// Python's `zipfile` loads the last of several entries with one name; PyTorch's reader
  /// finds one by a binary search over its sorted directory, so which one depends on every
  /// other name in the archive.
  private mutating func findDuplicates(_ index: ZipNameIndex) {
    for indices in Self.duplicateGroups(index) {
      let first = entries.headers[indices[0]]
      let list = indices.map { String($0) }.joined(separator: ", ")
      let last = indices[indices.count - 1]
      add(
        .warning, "zip.duplicate-name",
        "\(indices.count) entries are named \"\(name(of: first))\" (entries \(list)); Python's zipfile "
          + "loads entry \(last), PyTorch's reader the one its binary search over the sorted "
          + "names meets first, and WeightScope's listing refuses the archive", first.headerOffset)
    }
  }

  /// The indices of entries that share a name, one ascending group per name, ordered by
  /// their first entry.
  static func duplicateGroups(_ index: ZipNameIndex) -> [[Int]] {
    var groups: [[Int]] = []
    var groupOfFirst: [Int: Int] = [:]
    for (later, first) in index.duplicates {
      if let group = groupOfFirst[first] {
        groups[group].append(later)
      } else {
        groupOfFirst[first] = groups.count
        groups.append([first, later])
      }
    }
    return groups.sorted { $0[0] < $1[0] }
  }

  /// Entries whose local header and data share bytes with another entry's.
  private mutating func findOverlaps() {
    var spans = entries.ranges.map { i, range -> (entry: Int, start: Int, end: Int) in
      (i, entries.headers[i].localHeaderOffset, range.upperBound)
    }
    // Writers leave entries in offset order: sort (stably) only when they are not.
    if !spans.indices.dropFirst().allSatisfy({ spans[$0 - 1].start <= spans[$0].start }) {
      spans.sort { $0.start < $1.start }
    }
    var previous: (entry: Int, start: Int, end: Int)?
    for span in spans {
      if let before = previous, span.start < before.end {
        add(
          .warning, "zip.overlap",
          "entry \"\(name(of: entries.headers[span.entry]))\" at \(hex(span.start)) overlaps entry "
            + "\"\(name(of: entries.headers[before.entry]))\" "
            + "(\(hex(before.start))..<\(hex(before.end))): one range of bytes is read as two files",
          span.start)
      }
      if previous.map({ span.end > $0.end }) ?? true { previous = span }
    }
  }

  private mutating func checkCRC(_ entry: Entry, limits: Limits) {
    guard entry.dataRange != nil, !entry.header.isEncrypted else { return }
    let name = name(of: entry.header)
    do {
      let data = try contents(of: entry, limits: limits)
      let actual = try CRC32.checksum(data)
      if actual != entry.header.crc32 {
        add(
          .warning, "zip.crc",
          "CRC-32 of \"\(name)\" is \(hex(Int(actual))) but the central directory says "
            + hex(Int(entry.header.crc32)), entry.header.headerOffset)
      }
    } catch {
      add(.warning, "zip.entry-data", "data of \"\(name)\" is unreadable: \(error)", error.offset)
    }
  }
}
