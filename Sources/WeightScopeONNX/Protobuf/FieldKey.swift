import WeightScopeCore

/// A field's key (its tag): field number and wire type, `number << 3 | wireType`, as a varint.
struct FieldKey: Sendable, Equatable {
  /// The largest field number protobuf allows, 2^29 - 1.
  static let maxNumber = (1 << 29) - 1

  var number: Int
  var wireType: WireType
  /// Offset of the key's first byte.
  var offset: Int

  /// Reads a key, rejecting field number 0, numbers past 2^29 - 1, wire types 6 and 7, and groups.
  init(parsing reader: inout ByteReader) throws(ReadError) {
    let offset = reader.position
    try self.init(raw: try Varint.read(&reader), at: offset)
  }

  /// The key whose varint `raw` starts at `offset`, with the same checks.
  @inline(__always)
  init(raw: UInt64, at offset: Int) throws(ReadError) {
    let number = Int(truncatingIfNeeded: raw >> 3)
    let wire = UInt8(truncatingIfNeeded: raw & 7)
    // Wire types 0, 1, 2 and 5; numbers 1 through 2^29 - 1.
    guard raw <= UInt64(UInt32.max), number != 0, number <= Self.maxNumber,
      wire <= 2 || wire == 5, let wireType = WireType(rawValue: wire)
    else { throw Self.invalid(raw, at: offset) }
    self.number = number
    self.wireType = wireType
    self.offset = offset
  }

  /// What is wrong with the key `raw`, which `init(raw:at:)` refused; built apart from the
  /// checks.
  @inline(never)
  static func invalid(_ raw: UInt64, at offset: Int) -> ReadError {
    guard raw <= UInt64(UInt32.max) else {
      return ReadError(.malformed, at: offset, "field key \(raw) does not fit 32 bits")
    }
    let number = Int(raw >> 3)
    guard let wireType = WireType(rawValue: UInt8(raw & 7)) else {
      return ReadError(
        .malformed, at: offset, "wire type \(raw & 7) does not exist (field \(number))")
    }
    guard number != 0 else {
      return ReadError(.malformed, at: offset, "field number 0 is not allowed")
    }
    guard number <= maxNumber else {
      return ReadError(.malformed, at: offset, "field number \(number) is past 2^29 - 1")
    }
    return ReadError(
      .unsupported, at: offset,
      "field \(number) is a group (wire type \(wireType.rawValue)), which ONNX never uses")
  }
}
