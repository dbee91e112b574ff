import WeightScopeCore

/// Reads the fields of one protobuf message, whose bytes are exactly `range` of a file.
///
/// Every length is checked against the end of this message, not only the end of the file, so a
/// nested field can never reach into its parent's next field. Scalars, strings and nested
/// readers are read by the field's declared type; a value of the wrong wire type is an error.
///
/// Reads the file's buffer directly: a field's bytes are handed out as a range of the file,
/// so that reading a string or skipping a payload makes no sub-reader.
struct MessageReader {
  /// The file, kept alive while its buffer is read: by this reader, unless it is a nested
  /// message's reader, which lives only while its parent's ``message(_:_:_:_:)`` runs. Two
  /// cores decoding one file would otherwise contend for the file's reference count once per
  /// message.
  private let owner: FileBytes?
  /// The file, not retained.
  unowned(unsafe) let bytes: FileBytes
  private let buffer: UnsafeRawBufferPointer
  /// The file's size, for errors that say whether a length runs past the file's end.
  private let fileCount: Int
  /// Offset of the next byte to read.
  private(set) var position: Int
  /// One past the message's last byte.
  let end: Int

  /// A reader over the fields from `reader`'s position to its end.
  init(_ reader: ByteReader) {
    self.init(reader.bytes, range: reader.position..<reader.end)
  }

  /// A reader over `range` of `bytes`, which must lie inside them (a range this type handed
  /// out, or one checked by the caller).
  init(_ bytes: FileBytes, range: Range<Int>) {
    owner = bytes
    self.bytes = bytes
    buffer = bytes.buffer
    fileCount = bytes.count
    position = range.lowerBound
    end = range.upperBound
  }

  /// A reader over `range`, inside `parent`'s message, for no longer than `parent` lives.
  private init(nestedIn parent: MessageReader, range: Range<Int>) {
    owner = nil
    bytes = parent.bytes
    buffer = parent.buffer
    fileCount = parent.fileCount
    position = range.lowerBound
    end = range.upperBound
  }

  /// A reader over `range` of `bytes`, checked to lie inside them.
  init(_ bytes: FileBytes, checking range: Range<Int>) throws(ReadError) {
    guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
      throw ReadError(
        .truncated, at: range.lowerBound,
        "range \(hex(range.lowerBound))..<\(hex(range.upperBound)) is past the end "
          + "(\(hex(bytes.count)))")
    }
    self.init(bytes, range: range)
  }

  var isAtEnd: Bool { position >= end }
  var remaining: Int { end - position }

  /// The next field's key, or nil at the end of the message.
  @inline(__always)
  mutating func nextKey() throws(ReadError) -> FieldKey? {
    guard position < end else { return nil }
    let offset = position
    return try FieldKey(raw: try readVarint(), at: offset)
  }

  /// The varint at the position, which must end inside this message.
  @inline(__always)
  mutating func readVarint() throws(ReadError) -> UInt64 {
    try Varint.read(buffer, at: &position, end: end, fileCount: fileCount)
  }

  /// The error for data that runs past `end`: `.truncated` when that end is the end of the
  /// file, `.malformed` when it is the end of an enclosing message.
  static func pastEnd(at offset: Int, _ what: String, end: Int, fileCount: Int) -> ReadError {
    if end >= fileCount {
      return ReadError(.truncated, at: offset, "\(what) runs past the end of the file")
    }
    return ReadError(
      .malformed, at: offset,
      "\(what) runs past the end of the enclosing message at \(hex(end))")
  }

  /// The bytes of `range` of the file, valid while ``bytes`` lives.
  func raw(_ range: Range<Int>) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: buffer[range])
  }

  /// The error for a length that runs past the end, built apart from the check.
  @inline(never)
  func lengthPastEnd(_ length: UInt64, at offset: Int) -> ReadError {
    Self.pastEnd(at: offset, "length \(length)", end: end, fileCount: fileCount)
  }

  /// The text of `range` of the file, decoded as UTF-8, invalid sequences repaired.
  func text(_ range: Range<Int>) -> String {
    // As typed bytes: the raw buffer takes a slower, generic way into String.
    String(
      decoding: UnsafeRawBufferPointer(rebasing: buffer[range]).bindMemory(to: UInt8.self),
      as: UTF8.self)
  }

  // MARK: Scalars

  /// Throws unless `key` has wire type `expected`.
  @inline(__always)
  func expect(_ key: FieldKey, _ expected: WireType) throws(ReadError) {
    guard key.wireType == expected else { throw Self.wrongWireType(key, expected) }
  }

  /// The error for a field of the wrong wire type, built apart from the check.
  @inline(never)
  static func wrongWireType(_ key: FieldKey, _ expected: WireType) -> ReadError {
    ReadError(
      .malformed, at: key.offset, "wire type \(key.wireType.name), expected \(expected.name)")
  }

  mutating func varint(_ key: FieldKey) throws(ReadError) -> UInt64 {
    try expect(key, .varint)
    return try readVarint()
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
    guard count <= remaining else {
      throw Self.pastEnd(at: offset, what, end: end, fileCount: fileCount)
    }
    position += count
  }

  /// Moves to `offset`, between the position and the end of this message: past fields that
  /// are decoded elsewhere.
  mutating func jump(to offset: Int) throws(ReadError) {
    guard offset >= position, offset <= end else {
      throw ReadError(.malformed, at: position, "cannot move to \(hex(offset)) in this message")
    }
    position = offset
  }

  // MARK: Length-delimited

  /// The range of the file that a length-delimited field's bytes take (nothing is copied).
  @inline(__always)
  mutating func lengthDelimited(_ key: FieldKey) throws(ReadError) -> Range<Int> {
    try expect(key, .lengthDelimited)
    return try payload()
  }

  /// Reads a length prefix and returns the range of the bytes it covers.
  @inline(__always)
  mutating func payload() throws(ReadError) -> Range<Int> {
    let lengthOffset = position
    let length = try readVarint()
    guard length <= UInt64(remaining) else { throw lengthPastEnd(length, at: lengthOffset) }
    let start = position
    position += Int(length)
    return start..<position
  }

  /// A `string` or `bytes` field decoded as UTF-8, invalid sequences repaired.
  mutating func string(_ key: FieldKey) throws(ReadError) -> String {
    text(try lengthDelimited(key))
  }

  /// A `string` field that often repeats the one before it (an operator's name): when its
  /// bytes equal those of `recent`, `recent`'s string is returned instead of a new one.
  mutating func string(_ key: FieldKey, reusing recent: inout RecentString?) throws(ReadError)
    -> String
  {
    let range = try lengthDelimited(key)
    if let recent, recent.bytes.count == range.count {
      var i = 0
      let a = recent.bytes.lowerBound
      let b = range.lowerBound
      while i < range.count, buffer[a + i] == buffer[b + i] { i += 1 }
      if i == range.count { return recent.text }
    }
    let text = text(range)
    recent = RecentString(bytes: range, text: text)
    return text
  }

  /// A nested message of type `M`, counted against the depth and message limits.
  ///
  /// An error inside it gets `component` (`"[12]"` for a repeated field's element) prefixed.
  mutating func message<M: ProtoMessage>(
    _ key: FieldKey, _: M.Type, _ state: inout ProtoState,
    _ component: @autoclosure () -> String = ""
  ) throws(ReadError) -> M {
    let range = try lengthDelimited(key)
    do {
      return try M(fields: MessageReader(nestedIn: self, range: range), state: &state)
    } catch {
      throw error.prefixed(component())
    }
  }

  // MARK: Skipping

  /// Skips the value of a field this reader does not decode, whatever its wire type.
  @inline(__always)
  mutating func skip(_ key: FieldKey) throws(ReadError) {
    switch key.wireType {
    case .varint: _ = try readVarint()
    case .lengthDelimited: _ = try payload()
    default: try skipOther(key)
    }
  }

  /// ``skip(_:)`` for the fixed-width wire types (and groups, which keys never carry).
  @inline(never)
  private mutating func skipOther(_ key: FieldKey) throws(ReadError) {
    switch key.wireType {
    case .fixed64: try skipBytes(8, at: position, "fixed64")
    case .fixed32: try skipBytes(4, at: position, "fixed32")
    case .startGroup, .endGroup:
      throw ReadError(.unsupported, at: key.offset, "groups are not supported")
    case .varint, .lengthDelimited: try skip(key)
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
      let value = Int(truncatingIfNeeded: Int64(bitPattern: try readVarint()))
      if values.count < limit { values.append(value) }
      return 1
    case .lengthDelimited:
      let packed = try payload()
      var at = packed.lowerBound
      var count = 0
      while at < packed.upperBound {
        let raw = try Varint.read(buffer, at: &at, end: packed.upperBound, fileCount: fileCount)
        let value = Int(truncatingIfNeeded: Int64(bitPattern: raw))
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
          .malformed, at: packed.lowerBound,
          "packed \(element.name) payload of \(packed.count) bytes is not a multiple of \(width)")
      }
      return (packed.count / width)...(packed.count / width)
    default:
      if packed.count <= exactLimit {
        let count = try Varint.count(in: buffer, packed)
        return count...count
      }
      return ((packed.count + Varint.maxBytes - 1) / Varint.maxBytes)...packed.count
    }
  }
}

/// A string decoded from a file and the range of the file it came from.
struct RecentString {
  var bytes: Range<Int>
  var text: String
}
