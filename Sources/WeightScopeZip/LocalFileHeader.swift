import WeightScopeCore

/// The header in front of each entry's data: APPNOTE 4.3.7.
///
/// Writers that stream (torch among them) set bit 3 and leave the sizes and CRC zero here,
/// putting them in a data descriptor after the data; the central directory has the real values.
struct LocalFileHeader: Sendable, Equatable {
  var offset: Int
  var flags: UInt16
  var method: UInt16
  var crc32: UInt32
  var compressedSize: UInt32
  var uncompressedSize: UInt32
  /// Where the name's bytes lie in the file (absolute offsets).
  var nameRange: Range<Int>
  /// Offset of the entry's first data byte.
  var dataOffset: Int

  /// Bit 3: sizes and CRC are in a data descriptor after the data.
  var hasDataDescriptor: Bool { flags & 0x8 != 0 }

  init(parsing reader: inout ByteReader) throws(ReadError) {
    offset = reader.position
    guard try reader.readUInt32("signature") == ZipSignature.localFileHeader else {
      throw ReadError(.malformed, at: offset, "local file header signature missing")
    }
    _ = try reader.readUInt16("version needed")
    flags = try reader.readUInt16("flags")
    method = try reader.readUInt16("compression method")
    _ = try reader.readUInt32("modification time")
    crc32 = try reader.readUInt32("crc-32")
    compressedSize = try reader.readUInt32("compressed size")
    uncompressedSize = try reader.readUInt32("uncompressed size")
    let nameLength = Int(try reader.readUInt16("name length"))
    let extraLength = Int(try reader.readUInt16("extra field length"))
    let nameStart = reader.position
    try reader.skip(nameLength, "file name")
    nameRange = nameStart..<reader.position
    try reader.skip(extraLength, "extra field")
    dataOffset = reader.position
  }
}
