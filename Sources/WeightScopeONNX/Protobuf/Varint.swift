import WeightScopeCore

/// Base-128 varints: seven bits a byte, least significant group first, high bit set on every
/// byte but the last.
///
/// A 64-bit value needs at most ten bytes, and the tenth may then carry only the top bit, so a
/// longer varint or a tenth byte above 1 is an error rather than silently truncated.
enum Varint {
  /// The most bytes a varint may take.
  static let maxBytes = 10

  /// Decodes the varint at `reader`'s position, which must end before `reader.end`.
  ///
  /// - Throws: `.malformed` when it runs longer than ten bytes, `.overflow` when the tenth byte
  ///   carries more than one bit, and ``MessageReader/pastEnd(at:_:end:fileCount:)``'s error
  ///   when the bytes end first. The offset is always that of the varint's first byte.
  static func read(_ reader: inout ByteReader) throws(ReadError) -> UInt64 {
    var position = reader.position
    let value = try read(
      reader.bytes.buffer, at: &position, end: reader.end, fileCount: reader.bytes.count)
    try reader.seek(to: position)
    return value
  }

  /// Decodes the varint at `position` of `buffer` (a file of `fileCount` bytes), which must end
  /// before `end`, and moves `position` past it; errors as ``read(_:)``.
  @inline(__always)
  static func read(
    _ buffer: UnsafeRawBufferPointer, at position: inout Int, end: Int, fileCount: Int
  ) throws(ReadError) -> UInt64 {
    let start = position
    // One byte: every field key below 16 and every length below 128.
    if start < end, buffer[start] < 0x80 {
      position = start + 1
      return UInt64(buffer[start])
    }
    var index = start
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard index < end else {
        throw MessageReader.pastEnd(at: start, "varint", end: end, fileCount: fileCount)
      }
      let byte = buffer[index]
      index += 1
      if shift == 63 {
        if byte & 0x80 != 0 {
          throw ReadError(.malformed, at: start, "varint longer than \(maxBytes) bytes")
        }
        if byte > 1 {
          throw ReadError(
            .overflow, at: start, "varint overflows 64 bits (tenth byte \(hexByte(byte)))")
        }
        result |= UInt64(byte) << 63
        break
      }
      result |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { break }
      shift += 7
    }
    position = index
    return result
  }

  /// How many varints `payload` holds, every one of them complete.
  ///
  /// - Throws: `.malformed` when the last varint is cut off by the end of the payload or one is
  ///   longer than ten bytes.
  static func count(in payload: ByteReader) throws(ReadError) -> Int {
    try count(in: payload.bytes.buffer, payload.start..<payload.end)
  }

  /// How many varints `range` of `buffer` holds; errors as ``count(in:)``.
  static func count(in buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws(ReadError)
    -> Int
  {
    var count = 0
    var run = 0
    var index = range.lowerBound
    while index < range.upperBound {
      let byte = buffer[index]
      run += 1
      if byte & 0x80 == 0 {
        count += 1
        run = 0
      } else if run >= maxBytes {
        throw ReadError(.malformed, at: index + 1 - run, "varint longer than \(maxBytes) bytes")
      }
      index += 1
    }
    if run > 0 {
      throw ReadError(
        .malformed, at: range.upperBound - run,
        "packed varint runs past the end of its field")
    }
    return count
  }
}

func hexByte(_ byte: UInt8) -> String {
  let digits = String(byte, radix: 16)
  return "0x" + (digits.count == 1 ? "0" + digits : digits)
}
