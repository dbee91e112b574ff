import WeightScopeCore

/// A model-local function: a named body of nodes that other nodes call as an operator
/// (`onnx.proto` `FunctionProto`).
struct FunctionProto: ProtoMessage {
  var name = ""
  var domain = ""
  var input: [String] = []
  var output: [String] = []
  var node: [NodeProto] = []
  var attributeProto: [AttributeProto] = []

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "name"
    case 4: "input"
    case 5: "output"
    case 6: "attribute"
    case 7: "node"
    case 8: "doc_string"
    case 9: "opset_import"
    case 10: "domain"
    case 11: "attribute_proto"
    case 12: "value_info"
    case 13: "overload"
    case 14: "metadata_props"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: name = try fields.string(key)
    case 4: input.append(try fields.string(key))
    case 5: output.append(try fields.string(key))
    case 7: node.append(try fields.message(key, NodeProto.self, &state, "[\(node.count)]"))
    case 9: _ = try fields.message(key, OperatorSetIdProto.self, &state)
    case 10: domain = try fields.string(key)
    case 11:
      attributeProto.append(
        try fields.message(key, AttributeProto.self, &state, "[\(attributeProto.count)]"))
    case 12: _ = try fields.message(key, ValueInfoProto.self, &state)
    default: try fields.skip(key)
    }
  }
}

/// How to initialize and train the model's mutable tensors (`onnx.proto` `TrainingInfoProto`).
struct TrainingInfoProto: ProtoMessage {
  var initialization: GraphProto?
  var algorithm: GraphProto?
  var initializationBinding: [StringStringEntryProto] = []
  /// Keys: initializers the algorithm updates (mutable variables); values: the outputs that
  /// hold their new values.
  var updateBinding: [StringStringEntryProto] = []

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "initialization"
    case 2: "algorithm"
    case 3: "initialization_binding"
    case 4: "update_binding"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: initialization = try fields.message(key, GraphProto.self, &state)
    case 2: algorithm = try fields.message(key, GraphProto.self, &state)
    case 3:
      initializationBinding.append(
        try fields.message(
          key, StringStringEntryProto.self, &state, "[\(initializationBinding.count)]"))
    case 4:
      updateBinding.append(
        try fields.message(key, StringStringEntryProto.self, &state, "[\(updateBinding.count)]"))
    default: try fields.skip(key)
    }
  }
}
