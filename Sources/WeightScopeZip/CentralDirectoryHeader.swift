import WeightScopeCore

/// One entry of the central directory: APPNOTE 4.3.12, with the Zip64 extended information
/// extra field of 4.5.3. The central directory is the source of truth for sizes and offsets.
public struct CentralDirectoryHeader: Sendable, Equatable {
  public var name: String
  /// The name's raw bytes, for exact comparison with the local header.
  public var nameBytes: [UInt8]
  public var flags: UInt16
  public var method: ZipMethod
  public var crc32: UInt32
  public var compressedSize: Int
  public var uncompressedSize: Int
  public var localHeaderOffset: Int
  /// Offset of this header in the file.
  public var headerOffset: Int

  /// Bit 0 of the flags: the entry is encrypted.
  public var isEncrypted: Bool { flags & 0x1 != 0 }

  init(parsing reader: inout ByteReader) throws(ReadError) {
    headerOffset = reader.position
    guard try reader.readUInt32("signature") == ZipSignature.centralDirectoryHeader else {
      throw ReadError(.malformed, at: headerOffset, "central directory header signature missing")
    }
    _ = try reader.readUInt16("version made by")
    _ = try reader.readUInt16("version needed")
    flags = try reader.readUInt16("flags")
    method = ZipMethod(try reader.readUInt16("compression method"))
    _ = try reader.readUInt32("modification time")
    crc32 = try reader.readUInt32("crc-32")
    let compressed32 = try reader.readUInt32("compressed size")
    let uncompressed32 = try reader.readUInt32("uncompressed size")
    let nameLength = Int(try reader.readUInt16("name length"))
    let extraLength = Int(try reader.readUInt16("extra field length"))
    let commentLength = Int(try reader.readUInt16("comment length"))
    let disk = try reader.readUInt16("disk number start")
    _ = try reader.readUInt16("internal attributes")
    _ = try reader.readUInt32("external attributes")
    let offset32 = try reader.readUInt32("local header offset")
    nameBytes = try reader.readArray(nameLength, "file name")
    name = String(decoding: nameBytes, as: UTF8.self)
    var extra = try reader.readSlice(extraLength, "extra field")
    try reader.skip(commentLength, "file comment")

    compressedSize = Int(compressed32)
    uncompressedSize = Int(uncompressed32)
    localHeaderOffset = Int(offset32)

    // 4.5.3: the Zip64 field holds, in this order, only the values whose 32-bit field is 0xffffffff.
    let needUncompressed = uncompressed32 == 0xffff_ffff
    let needCompressed = compressed32 == 0xffff_ffff
    let needOffset = offset32 == 0xffff_ffff
    guard needUncompressed || needCompressed || needOffset || disk == 0xffff else {
      guard disk == 0 else { throw ReadError(.unsupported, at: headerOffset, "entry \(name) starts on disk \(disk)") }
      return
    }
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
    throw ReadError(.malformed, at: headerOffset, "entry \(name) has 0xffffffff sizes but no zip64 extra field")
  }
}
