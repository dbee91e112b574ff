import WeightScopeCore

/// Reads the fields of one protobuf message, whose bytes are exactly `reader`'s range.
///
/// Every length is checked against the end of this message, not only the end of the file, so a
/// nested field can never reach into its parent's next field. Scalars, strings and nested
/// readers are read by the field's declared type; a value of the wrong wire type is an error.
struct MessageReader {
  var reader: ByteReader

  init(_ reader: ByteReader) {
    self.reader = reader
  }

  /// The next field's key, or nil at the end of the message.
  mutating func nextKey() throws(ReadError) -> FieldKey? {
    guard !reader.isAtEnd else { return nil }
    return try FieldKey(parsing: &reader)
  }

  /// The error for data that runs past the end of `reader`: `.truncated` when that end is the
  /// end of the file, `.malformed` when it is the end of an enclosing message.
  static func pastEnd(at offset: Int, _ what: String, in reader: ByteReader) -> ReadError {
    if reader.end >= reader.bytes.count {
      return ReadError(.truncated, at: offset, "\(what) runs past the end of the file")
    }
    return ReadError(
      .malformed, at: offset,
      "\(what) runs past the end of the enclosing message at \(hex(reader.end))")
  }

  // MARK: Scalars

  /// Throws unless `key` has wire type `expected`.
  func expect(_ key: FieldKey, _ expected: WireType) throws(ReadError) {
    guard key.wireType == expected else {
      throw ReadError(
        .malformed, at: key.offset,
        "wire type \(key.wireType.name), expected \(expected.name)")
    }
  }

  mutating func varint(_ key: FieldKey) throws(ReadError) -> UInt64 {
    try expect(key, .varint)
    return try Varint.read(&reader)
  }

  /// An `int64` field: the varint's bits as a signed value.
  mutating func int64(_ key: FieldKey) throws(ReadError) -> Int64 {
    Int64(bitPattern: try varint(key))
  }

  /// An `int32` or enum field: protobuf sign-extends negative values to ten bytes, and parsers
  /// keep the low 32 bits.
  mutating func int32(_ key: FieldKey) throws(ReadError) -> Int32 {
    Int32(truncatingIfNeeded: try varint(key))
  }

  /// Skips `count` bytes, which must lie inside this message.
  mutating func skipBytes(_ count: Int, at offset: Int, _ what: String) throws(ReadError) {
    guard count <= reader.remaining else { throw Self.pastEnd(at: offset, what, in: reader) }
    try reader.skip(count)
  }

  // MARK: Length-delimited

  /// The bytes of a length-delimited field, as a reader over them (nothing is copied).
  mutating func lengthDelimited(_ key: FieldKey) throws(ReadError) -> ByteReader {
    try expect(key, .lengthDelimited)
    return try payload()
  }

  /// Reads a length prefix and returns a reader over the bytes it covers.
  mutating func payload() throws(ReadError) -> ByteReader {
    let lengthOffset = reader.position
    let length = try Varint.read(&reader)
    guard length <= UInt64(reader.remaining) else {
      throw Self.pastEnd(at: lengthOffset, "length \(length)", in: reader)
    }
    return try reader.readSlice(Int(length))
  }

  /// A `string` or `bytes` field decoded as UTF-8, invalid sequences repaired.
  mutating func string(_ key: FieldKey) throws(ReadError) -> String {
    var bytes = try lengthDelimited(key)
    return try bytes.readString(bytes.count)
  }

  /// A nested message of type `M`, counted against the depth and message limits.
  ///
  /// An error inside it gets `component` (`"[12]"` for a repeated field's element) prefixed.
  mutating func message<M: ProtoMessage>(
    _ key: FieldKey, _: M.Type, _ state: inout ProtoState,
    _ component: @autoclosure () -> String = ""
  ) throws(ReadError) -> M {
    let bytes = try lengthDelimited(key)
    do {
      return try M(parsing: bytes, state: &state)
    } catch {
      throw error.prefixed(component())
    }
  }

  // MARK: Skipping

  /// Skips the value of a field this reader does not decode, whatever its wire type.
  mutating func skip(_ key: FieldKey) throws(ReadError) {
    switch key.wireType {
    case .varint: _ = try Varint.read(&reader)
    case .fixed64: try skipBytes(8, at: reader.position, "fixed64")
    case .fixed32: try skipBytes(4, at: reader.position, "fixed32")
    case .lengthDelimited: _ = try payload()
    case .startGroup, .endGroup:
      throw ReadError(.unsupported, at: key.offset, "groups are not supported")
    }
  }

  // MARK: Repeated scalars

  /// Appends a repeated `int64` field's values, packed or not, keeping at most `limit` of them.
  ///
  /// - Returns: how many values this occurrence of the field held (all of them, kept or not).
  @discardableResult
  mutating func appendInt64s(_ key: FieldKey, to values: inout [Int], limit: Int) throws(ReadError)
    -> Int
  {
    switch key.wireType {
    case .varint:
      let value = Int(truncatingIfNeeded: Int64(bitPattern: try Varint.read(&reader)))
      if values.count < limit { values.append(value) }
      return 1
    case .lengthDelimited:
      var packed = try payload()
      var count = 0
      while !packed.isAtEnd {
        let value = Int(truncatingIfNeeded: Int64(bitPattern: try Varint.read(&packed)))
        if values.count < limit { values.append(value) }
        count += 1
      }
      return count
    default:
      throw ReadError(
        .malformed, at: key.offset,
        "wire type \(key.wireType.name), expected varint or packed varints")
    }
  }

  /// Counts the values of one occurrence of a repeated scalar field without decoding them.
  ///
  /// `element` is the wire type of one unpacked value. Packed fixed-width values must tile the
  /// payload exactly; packed varints are counted by their last bytes when the payload is at most
  /// `exactLimit` bytes, else only bounded (each takes one to ten bytes), so that a large array
  /// is skipped by its length and its pages are never touched.
  mutating func countScalars(
    _ key: FieldKey, element: WireType, exactLimit: Int = 1 << 20
  ) throws(ReadError) -> ClosedRange<Int> {
    if key.wireType == element {
      try skip(key)
      return 1...1
    }
    guard key.wireType == .lengthDelimited else {
      throw ReadError(
        .malformed, at: key.offset,
        "wire type \(key.wireType.name), expected \(element.name) or packed")
    }
    let packed = try payload()
    switch element {
    case .fixed32, .fixed64:
      let width = element == .fixed32 ? 4 : 8
      guard packed.count % width == 0 else {
        throw ReadError(
          .malformed, at: packed.start,
          "packed \(element.name) payload of \(packed.count) bytes is not a multiple of \(width)")
      }
      return (packed.count / width)...(packed.count / width)
    default:
      if packed.count <= exactLimit {
        let count = try Varint.count(in: packed)
        return count...count
      }
      return ((packed.count + Varint.maxBytes - 1) / Varint.maxBytes)...packed.count
    }
  }
}
