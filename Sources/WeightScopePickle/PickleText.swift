/// Conversions between the textual and binary integer forms of pickles and ``PickleValue``.
enum PickleText {
  /// A decimal integer line (`INT`, `LONG`, `GET`): `.int` when it fits `Int64`, else `.bigInt`.
  static func integer(_ text: [UInt8]) -> PickleValue? {
    var digits = text[...]
    var negative = false
    if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
      negative = first == UInt8(ascii: "-")
      digits = digits.dropFirst()
    }
    guard !digits.isEmpty else { return nil }
    // Magnitude, little-endian base 256.
    var magnitude: [UInt8] = []
    for digit in digits {
      guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
      var carry = Int(digit - UInt8(ascii: "0"))
      for i in magnitude.indices {
        let product = Int(magnitude[i]) * 10 + carry
        magnitude[i] = UInt8(truncatingIfNeeded: product)
        carry = product >> 8
      }
      while carry > 0 {
        magnitude.append(UInt8(truncatingIfNeeded: carry))
        carry >>= 8
      }
    }
    // Two's complement, one sign byte wider than the magnitude, then normalized.
    var bytes = magnitude + [0]
    if negative {
      var carry = 1
      for i in bytes.indices {
        let sum = Int(~bytes[i]) + carry
        bytes[i] = UInt8(truncatingIfNeeded: sum)
        carry = sum >> 8
      }
    }
    return twosComplement(bytes)
  }

  /// A little-endian two's complement integer (`LONG1`, `LONG4`): `.int` when it fits `Int64`.
  static func twosComplement<C: Collection>(_ raw: C) -> PickleValue where C.Element == UInt8 {
    var bytes = Array(raw)
    guard let last = bytes.last else { return .int(0) }
    let fill: UInt8 = last & 0x80 != 0 ? 0xff : 0x00
    // Drop redundant sign-extension bytes.
    while bytes.count > 1, bytes[bytes.count - 1] == fill,
      (bytes[bytes.count - 2] & 0x80) == (fill & 0x80)
    {
      bytes.removeLast()
    }
    guard bytes.count <= 8 else { return .bigInt(bytes) }
    var value: UInt64 = fill == 0xff ? ~0 : 0
    for (i, byte) in bytes.enumerated() {
      value &= ~(UInt64(0xff) << (8 * UInt64(i)))
      value |= UInt64(byte) << (8 * UInt64(i))
    }
    return .int(Int64(bitPattern: value))
  }

  /// The decimal spelling of a little-endian two's complement integer.
  static func decimal(_ bytes: [UInt8]) -> String {
    guard let last = bytes.last else { return "0" }
    let negative = last & 0x80 != 0
    var magnitude = bytes
    if negative {
      var carry = 1
      for i in magnitude.indices {
        let sum = Int(~magnitude[i]) + carry
        magnitude[i] = UInt8(truncatingIfNeeded: sum)
        carry = sum >> 8
      }
    }
    // Repeated division by 10 of the big-endian magnitude.
    var words = Array(magnitude.reversed())
    var digits: [UInt8] = []
    while words.contains(where: { $0 != 0 }) {
      var remainder = 0
      for i in words.indices {
        let current = remainder << 8 | Int(words[i])
        words[i] = UInt8(current / 10)
        remainder = current % 10
      }
      digits.append(UInt8(ascii: "0") + UInt8(remainder))
    }
    if digits.isEmpty { digits = [UInt8(ascii: "0")] }
    return (negative ? "-" : "") + String(decoding: digits.reversed(), as: UTF8.self)
  }

  /// The bytes of a Python bytes literal body (`STRING`'s argument, quotes removed).
  static func escapeDecoded(_ text: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    var i = text.startIndex
    func hexValue(_ byte: UInt8) -> UInt8? {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
      default: nil
      }
    }
    while i < text.endIndex {
      let byte = text[i]
      i += 1
      guard byte == UInt8(ascii: "\\"), i < text.endIndex else {
        out.append(byte)
        continue
      }
      let code = text[i]
      i += 1
      switch code {
      case UInt8(ascii: "\n"): break
      case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(code)
      case UInt8(ascii: "a"): out.append(0x07)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0c)
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "v"): out.append(0x0b)
      case UInt8(ascii: "x"):
        if i + 1 < text.endIndex, let high = hexValue(text[i]), let low = hexValue(text[i + 1]) {
          out.append(high << 4 | low)
          i += 2
        } else {
          out += [UInt8(ascii: "\\"), code]
        }
      case UInt8(ascii: "0")...UInt8(ascii: "7"):
        var value = Int(code - UInt8(ascii: "0"))
        var taken = 1
        while taken < 3, i < text.endIndex, text[i] >= UInt8(ascii: "0"),
          text[i] <= UInt8(ascii: "7")
        {
          value = value * 8 + Int(text[i] - UInt8(ascii: "0"))
          i += 1
          taken += 1
        }
        out.append(UInt8(truncatingIfNeeded: value))
      default:
        out += [UInt8(ascii: "\\"), code]
      }
    }
    return out
  }

  /// A `raw-unicode-escape` line (`UNICODE`): Latin-1 bytes with `\uXXXX` and `\UXXXXXXXX`.
  static func rawUnicodeEscapeDecoded(_ text: [UInt8]) -> String {
    var scalars = String.UnicodeScalarView()
    var i = 0
    while i < text.count {
      let byte = text[i]
      if byte == UInt8(ascii: "\\"), i + 1 < text.count,
        text[i + 1] == UInt8(ascii: "u") || text[i + 1] == UInt8(ascii: "U")
      {
        let width = text[i + 1] == UInt8(ascii: "u") ? 4 : 8
        if i + 2 + width <= text.count,
          let code = UInt32(
            String(decoding: text[(i + 2)..<(i + 2 + width)], as: UTF8.self), radix: 16)
        {
          scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
          i += 2 + width
          continue
        }
      }
      scalars.append(Unicode.Scalar(byte))
      i += 1
    }
    return String(scalars)
  }
}
