import WeightScopeCore

/// One operator invocation: inputs, outputs, operator and attributes (`onnx.proto` `NodeProto`).
///
/// `input` and `output` are checked when decoded but not kept: a graph has about as many nodes
/// as tensors, and a list of names per node would cost more than the rest of the node. They
/// are read again from the node's bytes, as ``Names``, when the node is walked.
struct NodeProto: ProtoMessage {
  var offset = 0
  /// The bytes from the first `input` or `output` field to the end of the last; nil when the
  /// node has neither.
  var names: Range<Int>?
  var name = ""
  var opType = ""
  var domain = ""
  var attribute: [AttributeProto] = []

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "input"
    case 2: "output"
    case 3: "name"
    case 4: "op_type"
    case 5: "attribute"
    case 6: "doc_string"
    case 7: "domain"
    case 8: "overload"
    case 9: "metadata_props"
    case 10: "device_configurations"
    default: nil
    }
  }

  mutating func begin(_ fields: MessageReader, _ state: inout ProtoState) {
    offset = fields.position
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1, 2:
      _ = try fields.lengthDelimited(key)
      names = (names?.lowerBound ?? key.offset)..<fields.position
    case 3: name = try fields.string(key)
    case 4: opType = try fields.string(key, reusing: &state.recentOperator)
    case 5:
      attribute.append(try fields.message(key, AttributeProto.self, &state, "[\(attribute.count)]"))
    case 7: domain = try fields.string(key)
    default: try fields.skip(key)
    }
  }

  /// The node's `input` (`field` 1) or `output` (`field` 2) names, in order, read from `bytes`,
  /// the file the node was decoded from.
  func names(_ field: Int, in bytes: FileBytes) throws(ReadError) -> Names {
    Names(fields: try MessageReader(bytes, checking: names ?? 0..<0), field: field)
  }

  /// The first `output` name, when the node has one.
  func firstOutput(in bytes: FileBytes) throws(ReadError) -> String? {
    var outputs = try names(2, in: bytes)
    guard let first = try outputs.next() else { return nil }
    return outputs.fields.text(first.bytes)
  }

  /// The names of one repeated string field of a node, as ranges of the file's bytes.
  struct Names {
    var fields: MessageReader
    let field: Int
    /// Names of `field` returned so far.
    private(set) var count = 0

    init(fields: MessageReader, field: Int) {
      self.fields = fields
      self.field = field
    }

    /// The next name's position among the field's names and its bytes' range in the file;
    /// nil after the last.
    mutating func next() throws(ReadError) -> (index: Int, bytes: Range<Int>)? {
      while let key = try fields.nextKey() {
        guard key.number == field else {
          try fields.skip(key)
          continue
        }
        let name = try fields.lengthDelimited(key)
        count += 1
        return (count - 1, name)
      }
      return nil
    }
  }
}
