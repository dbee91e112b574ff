/// A short, printable rendering of raw bytes for messages: `"PK\x03\x04"`.
public func printable<C: Collection>(_ bytes: C, limit: Int = 16) -> String where C.Element == UInt8 {
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
