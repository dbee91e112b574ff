import WeightScopeCore

/// Where the central directory is and how many entries it holds: APPNOTE 4.3.16, with the
/// Zip64 record and locator of 4.3.14 and 4.3.15 when the 32-bit fields overflow.
struct EndOfCentralDirectory: Sendable, Equatable {
  /// Offset of the end record itself.
  var recordOffset: Int
  var entryCount: Int
  var directoryOffset: Int
  var directorySize: Int
  var commentLength: Int
  var isZip64: Bool

  /// Finds the end record by scanning back from the end of the file.
  ///
  /// The record is the last signature whose comment length reaches exactly the end of the
  /// file; the comment itself may contain bytes that look like another record.
  init(parsing reader: ByteReader) throws(ReadError) {
    let end = reader.end
    guard end - reader.start >= ZipSize.endOfCentralDirectory else {
      throw ReadError(.badMagic, at: reader.start, "\(end - reader.start) bytes is too short for a zip archive", context: "end of central directory")
    }
    let lowest = max(reader.start, end - ZipSize.endOfCentralDirectory - ZipSize.maxComment)
    var candidate = end - ZipSize.endOfCentralDirectory
    var found: Int?
    while candidate >= lowest {
      if try reader.peekUInt32(at: candidate) == ZipSignature.endOfCentralDirectory,
        Int(try reader.peekUInt16(at: candidate + 20)) == end - candidate - ZipSize.endOfCentralDirectory
      {
        found = candidate
        break
      }
      if candidate == end - ZipSize.endOfCentralDirectory {
        // Not where writers put it (no archive comment): the rest of the search, backwards
        // through up to 64 KiB, is read in one request rather than a page at a time.
        reader.bytes.willNeed(lowest..<candidate)
      }
      candidate -= 1
    }
    guard let offset = found else {
      throw ReadError(.badMagic, at: nil, "no end of central directory record: not a zip archive", context: "end of central directory")
    }
    var r = try reader.slice(at: offset, count: ZipSize.endOfCentralDirectory)
    _ = try r.readUInt32()
    let disk = try r.readUInt16("disk number")
    let directoryDisk = try r.readUInt16("central directory disk")
    let entriesOnDisk = try r.readUInt16("entries on this disk")
    let entries = try r.readUInt16("total entries")
    let size = try r.readUInt32("central directory size")
    let start = try r.readUInt32("central directory offset")
    let comment = try r.readUInt16("comment length")

    recordOffset = offset
    entryCount = Int(entries)
    directorySize = Int(size)
    directoryOffset = Int(start)
    commentLength = Int(comment)
    isZip64 = false

    let needsZip64 = entries == 0xffff || size == 0xffff_ffff || start == 0xffff_ffff
    let locatorOffset = offset - ZipSize.zip64Locator
    if locatorOffset >= reader.start, try reader.peekUInt32(at: locatorOffset) == ZipSignature.zip64Locator {
      try readZip64(reader, locatorOffset: locatorOffset)
    } else if needsZip64 {
      throw ReadError(.malformed, at: offset, "fields are 0xffff... but no zip64 locator precedes the record", context: "end of central directory")
    } else if disk != 0 || directoryDisk != 0 || entriesOnDisk != entries {
      throw ReadError(.unsupported, at: offset, "multi-disk archives are not supported", context: "end of central directory")
    }
  }

  private mutating func readZip64(_ reader: ByteReader, locatorOffset: Int) throws(ReadError) {
    var locator = try reader.slice(at: locatorOffset, count: ZipSize.zip64Locator)
    _ = try locator.readUInt32()
    let disk = try locator.readUInt32("zip64 end record disk")
    let recordOffset64 = try locator.readUInt64("zip64 end record offset")
    let disks = try locator.readUInt32("total disks")
    guard disk == 0, disks <= 1 else {
      throw ReadError(.unsupported, at: locatorOffset, "multi-disk archives are not supported", context: "zip64 locator")
    }
    guard let zip64Offset = Int(exactly: recordOffset64), zip64Offset >= reader.start,
      zip64Offset <= locatorOffset - ZipSize.zip64EndOfCentralDirectory
    else {
      throw ReadError(.malformed, at: locatorOffset + 8, "zip64 end record offset \(recordOffset64) is outside the file", context: "zip64 locator")
    }
    var r = try reader.slice(at: zip64Offset, count: ZipSize.zip64EndOfCentralDirectory)
    guard try r.readUInt32() == ZipSignature.zip64EndOfCentralDirectory else {
      throw ReadError(.malformed, at: zip64Offset, "zip64 end record signature missing", context: "zip64 end of central directory")
    }
    _ = try r.readUInt64("record size")
    _ = try r.readUInt16("version made by")
    _ = try r.readUInt16("version needed")
    let thisDisk = try r.readUInt32("disk number")
    let directoryDisk = try r.readUInt32("central directory disk")
    let onDisk = try r.readUInt64("entries on this disk")
    let total = try r.readUInt64("total entries")
    let size = try r.readUInt64("central directory size")
    let start = try r.readUInt64("central directory offset")
    guard thisDisk == 0, directoryDisk == 0, onDisk == total else {
      throw ReadError(.unsupported, at: zip64Offset, "multi-disk archives are not supported", context: "zip64 end of central directory")
    }
    guard let count = Int(exactly: total), let size = Int(exactly: size), let start = Int(exactly: start) else {
      throw ReadError(.overflow, at: zip64Offset, "sizes do not fit in 64-bit signed integers", context: "zip64 end of central directory")
    }
    entryCount = count
    directorySize = size
    directoryOffset = start
    isZip64 = true
  }
}
