import CZlib
import WeightScopeCore

/// Raw DEFLATE (RFC 1951) through zlib, with the output capped.
enum Inflate {
  /// Inflates `compressed`, which must produce exactly `expected` bytes.
  ///
  /// Output grows as zlib produces it, never preallocated from `expected`, and stops at
  /// `min(expected, limit)`: a zip bomb costs at most `limit` bytes of memory.
  static func inflate(_ compressed: ByteReader, expected: Int, limit: Int, label: String) throws(ReadError) -> FileBytes {
    guard expected <= limit else {
      throw ReadError(.limitExceeded, at: compressed.start, "declares \(expected) inflated bytes, over the limit of \(limit)", context: label)
    }
    var stream = z_stream()
    guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw ReadError(.io, at: compressed.start, "zlib could not start inflating", context: label)
    }
    defer { inflateEnd(&stream) }

    var capacity = max(1, min(expected, 1 << 16))
    var output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    var produced = 0
    var consumed = 0
    let input = try compressed.peekBytes(at: compressed.start, count: compressed.count)
    var finished = false
    while !finished {
      if produced == capacity {
        guard capacity < expected else {
          output.deallocate()
          throw ReadError(.malformed, at: compressed.start + consumed, "inflates to more than the \(expected) bytes declared", context: label)
        }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: min(expected, capacity * 2), alignment: 16)
        grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[0..<produced]))
        output.deallocate()
        output = grown
        capacity = grown.count
      }
      let inputChunk = min(input.count - consumed, Int(UInt32.max))
      let outputChunk = min(capacity - produced, Int(UInt32.max))
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
      stream.avail_in = uInt(inputChunk)
      stream.next_out = output.baseAddress?.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
      stream.avail_out = uInt(outputChunk)
      let status = CZlib.inflate(&stream, Z_NO_FLUSH)
      consumed += inputChunk - Int(stream.avail_in)
      produced += outputChunk - Int(stream.avail_out)
      switch status {
      case Z_STREAM_END:
        finished = true
      case Z_OK:
        continue
      case Z_BUF_ERROR where stream.avail_out == 0:
        continue
      case Z_BUF_ERROR:
        output.deallocate()
        throw ReadError(.truncated, at: compressed.start + consumed, "deflate stream ends early", context: label)
      default:
        output.deallocate()
        let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
        throw ReadError(.malformed, at: compressed.start + consumed, "deflate data is corrupt: \(reason)", context: label)
      }
    }
    guard produced == expected else {
      output.deallocate()
      throw ReadError(.malformed, at: compressed.start + consumed, "inflates to \(produced) bytes, not the \(expected) declared", context: label)
    }
    return FileBytes(adopting: UnsafeMutableRawBufferPointer(rebasing: output[0..<produced]), label: label)
  }
}
