import WeightScopeCore

/// One entry of the central directory: APPNOTE 4.3.12, with the Zip64 extended information
/// extra field of 4.5.3. The central directory is the source of truth for sizes and offsets.
///
/// The name stays where it is in the file: ``nameRange`` locates it, and ``name(in:)`` decodes
/// it when a message or a caller needs text. Parsing a directory allocates nothing per entry.
public struct CentralDirectoryHeader: Sendable, Equatable {
  /// Offset of this header in the file.
  public var headerOffset: Int
  public var compressedSize: Int
  public var uncompressedSize: Int
  public var localHeaderOffset: Int
  public var crc32: UInt32
  public var flags: UInt16
  private var methodCode: UInt16
  private var nameCount: UInt16
  /// Whether every byte of the name is ASCII: byte comparisons then agree with `String`'s.
  public var nameIsASCII: Bool

  public var method: ZipMethod { ZipMethod(methodCode) }

  /// Where the name's raw bytes lie in the file (absolute offsets): right after the header's
  /// fixed fields.
  public var nameRange: Range<Int> {
    let start = headerOffset + ZipSize.centralDirectoryHeader
    return start..<(start + Int(nameCount))
  }

  /// Bit 0 of the flags: the entry is encrypted.
  public var isEncrypted: Bool { flags & 0x1 != 0 }

  /// The name's raw bytes in `reader`, the reader the header was parsed from (or one over the
  /// same file). Valid while the file's bytes live.
  public func nameBytes(in reader: ByteReader) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: reader.bytes.buffer[nameRange])
  }

  /// The name decoded as UTF-8, invalid sequences repaired.
  public func name(in reader: ByteReader) -> String {
    String(decoding: nameBytes(in: reader), as: UTF8.self)
  }

  /// The fixed-size fields of 4.3.12 in file order, with the names errors give them.
  private static let fixedFields: [(name: String, size: Int)] = [
    ("signature", 4), ("version made by", 2), ("version needed", 2), ("flags", 2),
    ("compression method", 2), ("modification time", 4), ("crc-32", 4), ("compressed size", 4),
    ("uncompressed size", 4), ("name length", 2), ("extra field length", 2),
    ("comment length", 2), ("disk number start", 2), ("internal attributes", 2),
    ("external attributes", 4), ("local header offset", 4),
  ]

  /// The error reading the fixed fields one by one meets in fewer than 46 bytes: a missing
  /// signature, or the first field that does not fit.
  private static func shortHeaderError(_ reader: ByteReader) -> ReadError {
    var r = reader
    do throws(ReadError) {
      guard try r.readUInt32("signature") == ZipSignature.centralDirectoryHeader else {
        return ReadError(.malformed, at: reader.position, "central directory header signature missing")
      }
      for field in fixedFields.dropFirst() { try r.skip(field.size, field.name) }
    } catch {
      return error
    }
    return ReadError(.truncated, at: reader.position, "central directory header is cut short")
  }

  init(parsing reader: inout ByteReader) throws(ReadError) {
    headerOffset = reader.position
    guard reader.remaining >= ZipSize.centralDirectoryHeader else {
      throw Self.shortHeaderError(reader)
    }
    // The 46 fixed bytes and the lengths after them are checked at once, then read in place.
    let buffer = reader.bytes.buffer
    let start = headerOffset
    func u16(_ offset: Int) -> UInt16 {
      UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt16.self))
    }
    func u32(_ offset: Int) -> UInt32 {
      UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt32.self))
    }
    guard u32(0) == ZipSignature.centralDirectoryHeader else {
      throw ReadError(.malformed, at: headerOffset, "central directory header signature missing")
    }
    flags = u16(8)
    methodCode = u16(10)
    crc32 = u32(16)
    let compressed32 = u32(20)
    let uncompressed32 = u32(24)
    let nameLength = Int(u16(28))
    let extraLength = Int(u16(30))
    let commentLength = Int(u16(32))
    let disk = u16(34)
    let offset32 = u32(42)
    let fixed = ZipSize.centralDirectoryHeader
    guard nameLength + extraLength + commentLength <= reader.remaining - fixed else {
      // The error reading the three fields one after another meets.
      try reader.skip(fixed)
      try reader.skip(nameLength, "file name")
      try reader.skip(extraLength, "extra field")
      try reader.skip(commentLength, "file comment")
      throw ReadError(.truncated, at: start, "central directory header is cut short")
    }
    nameCount = UInt16(nameLength)
    let nameStart = start + fixed
    nameIsASCII = isASCII(UnsafeRawBufferPointer(rebasing: buffer[nameStart..<(nameStart + nameLength)]))
    let extraStart = nameStart + nameLength
    try reader.skip(fixed + nameLength + extraLength + commentLength)

    compressedSize = Int(compressed32)
    uncompressedSize = Int(uncompressed32)
    localHeaderOffset = Int(offset32)

    // 4.5.3: the Zip64 field holds, in this order, only the values whose 32-bit field is 0xffffffff.
    let needUncompressed = uncompressed32 == 0xffff_ffff
    let needCompressed = compressed32 == 0xffff_ffff
    let needOffset = offset32 == 0xffff_ffff
    guard needUncompressed || needCompressed || needOffset || disk == 0xffff else {
      guard disk == 0 else {
        throw ReadError(.unsupported, at: headerOffset, "entry \(name(in: reader)) starts on disk \(disk)")
      }
      return
    }
    var extra = try reader.slice(at: extraStart, count: extraLength, "extra field")
    while extra.remaining >= 4 {
      let fieldOffset = extra.position
      let tag = try extra.readUInt16("extra field tag")
      let size = Int(try extra.readUInt16("extra field size"))
      var field = try extra.readSlice(size, "extra field 0x\(String(tag, radix: 16))")
      guard tag == 0x0001 else { continue }
      func next(_ what: String) throws(ReadError) -> Int {
        let value = try field.readUInt64(what)
        guard let int = Int(exactly: value) else {
          throw ReadError(.overflow, at: fieldOffset, "zip64 \(what) \(value) does not fit")
        }
        return int
      }
      if needUncompressed { uncompressedSize = try next("uncompressed size") }
      if needCompressed { compressedSize = try next("compressed size") }
      if needOffset { localHeaderOffset = try next("local header offset") }
      return
    }
    throw ReadError(.malformed, at: headerOffset, "entry \(name(in: reader)) has 0xffffffff sizes but no zip64 extra field")
  }

  /// The headers of a central directory, in order, until the declared count or the first
  /// header that cannot be read.
  ///
  /// - Returns: the headers read, the error that stopped the parse early (wrapped with the
  ///   entry's index), and the directory reader positioned after the last header read.
  static func parseAll(_ directory: ByteReader, count: Int) -> (
    headers: [CentralDirectoryHeader], failure: ReadError?, rest: ByteReader
  ) {
    var directory = directory
    var headers: [CentralDirectoryHeader] = []
    // Each header takes at least 46 bytes: never reserve more than the directory can hold.
    headers.reserveCapacity(min(count, directory.remaining / ZipSize.centralDirectoryHeader))
    while headers.count < count {
      do {
        headers.append(try CentralDirectoryHeader(parsing: &directory))
      } catch {
        return (headers, error.within("central directory entry \(headers.count)"), directory)
      }
    }
    return (headers, nil, directory)
  }
}
