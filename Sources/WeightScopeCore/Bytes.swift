/// A short, printable rendering of raw bytes for messages: `"PK\x03\x04"`.
public func printable<C: Collection>(_ bytes: C, limit: Int = 16) -> String
where C.Element == UInt8 {
  var text = ""
  for byte in bytes.prefix(limit) {
    if byte >= 0x20, byte < 0x7f, byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "\"") {
      text.unicodeScalars.append(Unicode.Scalar(byte))
    } else {
      let digits = String(byte, radix: 16)
      text += "\\x" + (digits.count == 1 ? "0" + digits : digits)
    }
  }
  if bytes.count > limit { text += "..." }
  return "\"" + text + "\""
}

/// Whether every byte is below 0x80, eight bytes at a time.
public func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
  var i = 0
  var high: UInt64 = 0
  while i + 8 <= bytes.count {
    high |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
    i += 8
  }
  while i < bytes.count {
    high |= UInt64(bytes[i])
    i += 1
  }
  return high & 0x8080_8080_8080_8080 == 0
}

/// The number a canonical decimal spells (`0`, `17`; not `017`, `+1` or `1e3`) of at most
/// nine digits: how `torch.save` names its storage records.
public func canonicalDecimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
  let count = bytes.count
  guard count > 0, count <= 9, bytes[0] != UInt8(ascii: "0") || count == 1 else { return nil }
  var number = 0
  for i in 0..<count {
    // A byte below "0" wraps around to a large digit.
    let digit = bytes[i] &- UInt8(ascii: "0")
    guard digit < 10 else { return nil }
    number = number &* 10 &+ Int(digit)
  }
  return number
}
