import WeightScopeCore

/// One operator invocation: inputs, outputs, operator and attributes (`onnx.proto` `NodeProto`).
struct NodeProto: ProtoMessage {
  var offset = 0
  var input: [String] = []
  var output: [String] = []
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

  mutating func begin(at offset: Int) {
    self.offset = offset
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: input.append(try fields.string(key))
    case 2: output.append(try fields.string(key))
    case 3: name = try fields.string(key)
    case 4: opType = try fields.string(key)
    case 5:
      attribute.append(try fields.message(key, AttributeProto.self, &state, "[\(attribute.count)]"))
    case 7: domain = try fields.string(key)
    default: try fields.skip(key)
    }
  }
}
