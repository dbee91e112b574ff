/// A bounds-checked cursor over a ``FileBytes``, with absolute offsets.
///
/// `read*` consumes, `peek*` does not, `slice` makes a sub-reader over the same bytes without
/// copying. Every position and every error offset is an offset in the file. Multi-byte integers
/// are little-endian unless the name says otherwise.
public struct ByteReader: @unchecked Sendable {
  /// The bytes, kept alive by this reader.
  public let bytes: FileBytes
  /// First readable offset.
  public let start: Int
  /// One past the last readable offset.
  public let end: Int
  /// Offset of the next byte to read.
  @inlinable public var position: Int { cursor }
  @usableFromInline var cursor: Int

  /// A reader over all of `bytes`.
  public init(_ bytes: FileBytes) {
    self.bytes = bytes
    start = 0
    end = bytes.count
    cursor = 0
  }

  /// A reader over `bytes[range]`, positioned at its start.
  ///
  /// - Throws: `.truncated` when `range` is not inside the bytes.
  public init(_ bytes: FileBytes, range: Range<Int>) throws(ReadError) {
    guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
      throw ReadError(.truncated, at: range.lowerBound,
        "range \(hex(range.lowerBound))..<\(hex(range.upperBound)) is past the end (\(hex(bytes.count)))")
    }
    self.bytes = bytes
    start = range.lowerBound
    end = range.upperBound
    cursor = range.lowerBound
  }

  /// Bytes left between the position and the end.
  @inlinable public var remaining: Int { end - position }
  @inlinable public var isAtEnd: Bool { position >= end }
  /// The size of the readable range.
  public var count: Int { end - start }

  // MARK: Bounds

  /// Throws unless `count` bytes can be read at `offset`.
  @inlinable @inline(__always)
  public func check(_ count: Int, at offset: Int, _ what: @autoclosure () -> String) throws(ReadError) {
    guard count >= 0, offset >= start, offset <= end, count <= end - offset else {
      throw ReadError(.truncated, at: offset,
        "\(what()) needs \(count) bytes, \(max(0, end - offset)) left")
    }
  }

  // MARK: Moving

  /// Moves to absolute `offset`, which may equal ``end``.
  public mutating func seek(to offset: Int) throws(ReadError) {
    guard offset >= start, offset <= end else {
      throw ReadError(.truncated, at: offset, "offset is outside \(hex(start))..<\(hex(end))")
    }
    cursor = offset
  }

  /// Skips `count` bytes.
  public mutating func skip(_ count: Int, _ what: @autoclosure () -> String = "skipped data") throws(ReadError) {
    try check(count, at: position, what())
    cursor += count
  }

  // MARK: Peeking

  @inlinable
  public func peekUInt8(at offset: Int) throws(ReadError) -> UInt8 {
    try check(1, at: offset, "byte")
    return bytes.buffer[offset]
  }

  @inlinable @inline(__always)
  public func peekInteger<T: FixedWidthInteger>(_: T.Type, at offset: Int, _ what: @autoclosure () -> String = "integer") throws(ReadError) -> T {
    try check(MemoryLayout<T>.size, at: offset, what())
    return T(littleEndian: bytes.buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
  }

  @inlinable public func peekUInt16(at offset: Int) throws(ReadError) -> UInt16 { try peekInteger(UInt16.self, at: offset) }
  @inlinable public func peekUInt32(at offset: Int) throws(ReadError) -> UInt32 { try peekInteger(UInt32.self, at: offset) }
  @inlinable public func peekUInt64(at offset: Int) throws(ReadError) -> UInt64 { try peekInteger(UInt64.self, at: offset) }

  /// The raw bytes `offset..<offset+count`, without copying. Valid while ``bytes`` lives.
  public func peekBytes(at offset: Int, count: Int, _ what: @autoclosure () -> String = "bytes") throws(ReadError) -> UnsafeRawBufferPointer {
    try check(count, at: offset, what())
    guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(rebasing: bytes.buffer[offset..<(offset + count)])
  }

  /// Whether the bytes at `offset` equal `expected` (false when they would run past the end).
  public func matches(_ expected: [UInt8], at offset: Int) -> Bool {
    guard offset >= start, offset <= end, expected.count <= end - offset else { return false }
    for (i, byte) in expected.enumerated() where bytes.buffer[offset + i] != byte { return false }
    return true
  }

  // MARK: Reading

  @inlinable @inline(__always)
  public mutating func readUInt8(_ what: @autoclosure () -> String = "byte") throws(ReadError) -> UInt8 {
    try check(1, at: position, what())
    defer { cursor += 1 }
    return bytes.buffer[position]
  }

  @inlinable @inline(__always)
  public mutating func readInteger<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String = "integer") throws(ReadError) -> T {
    let value = try peekInteger(T.self, at: position, what())
    cursor += MemoryLayout<T>.size
    return value
  }

  @inlinable @inline(__always) public mutating func readUInt16(_ what: @autoclosure () -> String = "uint16") throws(ReadError) -> UInt16 { try readInteger(UInt16.self, what()) }
  @inlinable @inline(__always) public mutating func readUInt32(_ what: @autoclosure () -> String = "uint32") throws(ReadError) -> UInt32 { try readInteger(UInt32.self, what()) }
  @inlinable @inline(__always) public mutating func readUInt64(_ what: @autoclosure () -> String = "uint64") throws(ReadError) -> UInt64 { try readInteger(UInt64.self, what()) }
  @inlinable @inline(__always) public mutating func readInt32(_ what: @autoclosure () -> String = "int32") throws(ReadError) -> Int32 { try readInteger(Int32.self, what()) }
  @inlinable @inline(__always) public mutating func readInt64(_ what: @autoclosure () -> String = "int64") throws(ReadError) -> Int64 { try readInteger(Int64.self, what()) }

  /// The next `count` bytes, without copying. Valid while ``bytes`` lives.
  public mutating func readBytes(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws(ReadError) -> UnsafeRawBufferPointer {
    let raw = try peekBytes(at: position, count: count, what())
    cursor += count
    return raw
  }

  /// The next `count` bytes as an array (for short fields: names, keys).
  public mutating func readArray(_ count: Int, _ what: @autoclosure () -> String = "bytes") throws(ReadError) -> [UInt8] {
    Array(try readBytes(count, what()))
  }

  /// The next `count` bytes decoded as UTF-8, invalid sequences repaired.
  public mutating func readString(_ count: Int, _ what: @autoclosure () -> String = "string") throws(ReadError) -> String {
    String(decoding: try readBytes(count, what()), as: UTF8.self)
  }

  /// A sub-reader over the next `count` bytes (sharing storage); this reader moves past them.
  public mutating func readSlice(_ count: Int, _ what: @autoclosure () -> String = "nested data") throws(ReadError) -> ByteReader {
    try check(count, at: position, what())
    let sub = ByteReader(unchecked: bytes, start: position, end: position + count)
    cursor += count
    return sub
  }

  /// A sub-reader over `offset..<offset+count`, which must lie inside this reader's range.
  public func slice(at offset: Int, count: Int, _ what: @autoclosure () -> String = "nested data") throws(ReadError) -> ByteReader {
    try check(count, at: offset, what())
    return ByteReader(unchecked: bytes, start: offset, end: offset + count)
  }

  private init(unchecked bytes: FileBytes, start: Int, end: Int) {
    self.bytes = bytes
    self.start = start
    self.end = end
    cursor = start
  }
}
