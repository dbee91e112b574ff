import CZlib
import WeightScopeCore

/// CRC-32 as zip uses it (APPNOTE 4.4.7): zlib's, with whole 16-byte blocks folded by
/// carry-less multiplication on x86-64 processors that have it (`weightscope_crc32` in the
/// CZlib shim), about five times faster on a checkpoint's `data.pkl`.
public enum CRC32 {
  public static func checksum(_ data: ByteReader) throws(ReadError) -> UInt32 {
    let bytes = try data.peekBytes(at: data.start, count: data.count)
    guard let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
    #if arch(x86_64)
      return weightscope_crc32(0, start, bytes.count)
    #else
      var crc = crc32(0, nil, 0)
      var done = 0
      while done < bytes.count {
        let chunk = min(bytes.count - done, Int(UInt32.max))
        crc = crc32(crc, start + done, uInt(chunk))
        done += chunk
      }
      return UInt32(truncatingIfNeeded: crc)
    #endif
  }
}
