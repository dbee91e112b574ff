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
  guard let first = bytes.first, bytes.count <= 9, first != UInt8(ascii: "0") || bytes.count == 1
  else { return nil }
  var number = 0
  for byte in bytes {
    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
    number = number * 10 + Int(byte - UInt8(ascii: "0"))
  }
  return number
}
