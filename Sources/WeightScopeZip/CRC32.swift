import CZlib
import WeightScopeCore

/// CRC-32 as zip uses it (APPNOTE 4.4.7), computed by zlib.
public enum CRC32 {
  public static func checksum(_ data: ByteReader) throws(ReadError) -> UInt32 {
    let bytes = try data.peekBytes(at: data.start, count: data.count)
    var crc = crc32(0, nil, 0)
    var done = 0
    while done < bytes.count {
      let chunk = min(bytes.count - done, Int(UInt32.max))
      let start = bytes.baseAddress?.advanced(by: done).assumingMemoryBound(to: Bytef.self)
      crc = crc32(crc, start, uInt(chunk))
      done += chunk
    }
    return UInt32(truncatingIfNeeded: crc)
  }
}
