/// Signatures and sizes from PKWARE's APPNOTE.TXT (version 6.3.10).
enum ZipSignature {
  /// 4.3.7 Local file header.
  static let localFileHeader: UInt32 = 0x0403_4b50
  /// 4.3.12 Central directory file header.
  static let centralDirectoryHeader: UInt32 = 0x0201_4b50
  /// 4.3.16 End of central directory record.
  static let endOfCentralDirectory: UInt32 = 0x0605_4b50
  /// 4.3.14 Zip64 end of central directory record.
  static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4b50
  /// 4.3.15 Zip64 end of central directory locator.
  static let zip64Locator: UInt32 = 0x0706_4b50
}

enum ZipSize {
  static let localFileHeader = 30
  static let centralDirectoryHeader = 46
  static let endOfCentralDirectory = 22
  static let zip64Locator = 20
  static let zip64EndOfCentralDirectory = 56
  /// The longest comment a 16-bit length allows.
  static let maxComment = 0xffff
}

/// 4.4.5 Compression methods WeightScope reads.
public enum ZipMethod: Sendable, Equatable {
  case stored
  case deflated
  case other(UInt16)

  init(_ raw: UInt16) {
    switch raw {
    case 0: self = .stored
    case 8: self = .deflated
    default: self = .other(raw)
    }
  }

  public var name: String {
    switch self {
    case .stored: "stored"
    case .deflated: "deflated"
    case .other(let raw): "method \(raw)"
    }
  }
}
