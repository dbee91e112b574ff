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
    self.offset = offset
    guard raw <= UInt64(UInt32.max) else {
      throw ReadError(.malformed, at: offset, "field key \(raw) does not fit 32 bits")
    }
    let number = Int(raw >> 3)
    guard let wireType = WireType(rawValue: UInt8(raw & 7)) else {
      throw ReadError(
        .malformed, at: offset, "wire type \(raw & 7) does not exist (field \(number))")
    }
    guard number != 0 else {
      throw ReadError(.malformed, at: offset, "field number 0 is not allowed")
    }
    guard number <= Self.maxNumber else {
      throw ReadError(.malformed, at: offset, "field number \(number) is past 2^29 - 1")
    }
    guard wireType != .startGroup, wireType != .endGroup else {
      throw ReadError(
        .unsupported, at: offset,
        "field \(number) is a group (wire type \(wireType.rawValue)), which ONNX never uses")
    }
    self.number = number
    self.wireType = wireType
  }
}
