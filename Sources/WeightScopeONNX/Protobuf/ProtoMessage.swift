import WeightScopeCore

/// Limits and counters shared by every message decoded from one file.
struct ProtoState {
  let limits: Limits
  /// Messages open right now, the one being decoded included.
  private(set) var depth = 0
  /// Messages decoded so far.
  private(set) var messages = 0
  /// Messages the limit still lets through.
  var remainingMessages: Int { max(0, limits.protobufMessages - messages) }
  /// The operator type of the node decoded last: a graph's nodes often run the same operator.
  var recentOperator: RecentString?
  /// Dimensions of the tensor being decoded, gathered here before they become its array.
  var dimsScratch: [Int] = []
  /// The dimensions of the tensor decoded last: tensors of one shape share one array.
  private var recentDims: [Int] = []
  /// Where the main graph's initializers may be handed to another core; nil in one pass.
  var split: InitializerSplit?

  /// An array holding `dimsScratch`: the last one made when it holds the same values.
  mutating func takeDims() -> [Int] {
    if dimsScratch != recentDims {
      // A copy of its own: sharing the scratch's buffer would make the next tensor copy it.
      var dims: [Int] = []
      dims.reserveCapacity(dimsScratch.count)
      dims.append(contentsOf: dimsScratch)
      recentDims = dims
    }
    return recentDims
  }

  init(limits: Limits) {
    self.limits = limits
  }

  /// The state for fields of a message decoded apart, nested `depth` deep.
  init(limits: Limits, depth: Int) {
    self.limits = limits
    self.depth = depth
  }

  /// Counts a message starting at `offset` and one level of nesting.
  @inline(__always)
  mutating func enter(at offset: Int) throws(ReadError) {
    guard depth < limits.protobufDepth, messages < limits.protobufMessages else {
      throw limitError(at: offset)
    }
    depth += 1
    messages += 1
  }

  /// The error for a message past one of the limits, built apart from the check.
  @inline(never)
  private func limitError(at offset: Int) -> ReadError {
    guard depth < limits.protobufDepth else {
      return ReadError(
        .limitExceeded, at: offset,
        "messages nested deeper than \(limits.protobufDepth) (Limits.protobufDepth)")
    }
    return ReadError(
      .limitExceeded, at: offset,
      "more than \(limits.protobufMessages) messages (Limits.protobufMessages)")
  }

  mutating func leave() {
    depth -= 1
  }
}

/// A protobuf message decoded field by field from its bytes.
///
/// A conforming type starts empty and takes each field in `decode`; the shared `init(parsing:)`
/// runs the loop, counts the message against the limits and prefixes `.fieldName` to the context
/// of any error raised while decoding a field.
protocol ProtoMessage {
  init()
  /// The field's name in the `.proto` file, for error paths.
  static func fieldName(_ number: Int) -> String?
  /// Called once before the first field, with a reader over the whole message (its position
  /// is the offset of the message's first byte) and the state it is decoded in.
  mutating func begin(_ fields: MessageReader, _ state: inout ProtoState)
  /// Decodes one field (or skips it with `fields.skip(key)`).
  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  /// Called once after the last field.
  mutating func end(_ state: inout ProtoState)
}

extension ProtoMessage {
  mutating func begin(_ fields: MessageReader, _ state: inout ProtoState) {}
  mutating func end(_ state: inout ProtoState) {}

  /// Decodes a whole message from `bytes`, whose range is exactly the message.
  init(parsing bytes: ByteReader, state: inout ProtoState) throws(ReadError) {
    try self.init(fields: MessageReader(bytes), state: &state)
  }

  /// Decodes a whole message from `fields`, positioned at the message's first byte.
  init(fields: MessageReader, state: inout ProtoState) throws(ReadError) {
    self.init()
    var fields = fields
    try state.enter(at: fields.position)
    defer { state.leave() }
    begin(fields, &state)
    while let key = try fields.nextKey() {
      do {
        try decode(key, &fields, &state)
      } catch {
        throw error.prefixed("." + (Self.fieldName(key.number) ?? "field_\(key.number)"))
      }
    }
    end(&state)
  }
}

extension ReadError {
  /// The same error with `component` prepended to its context path, with no separator:
  /// `".graph"` + `".initializer[3].dims"`.
  func prefixed(_ component: String) -> ReadError {
    var copy = self
    copy.context = component + context
    return copy
  }
}
