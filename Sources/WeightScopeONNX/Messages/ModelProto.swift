import WeightScopeCore

/// The top-level ONNX message (`onnx.proto` `ModelProto`).
struct ModelProto: ProtoMessage {
  var irVersion: Int64?
  var opsetImport: [OperatorSetIdProto] = []
  var producerName = ""
  var producerVersion = ""
  var domain = ""
  var modelVersion: Int64?
  var graph: GraphProto?
  var metadataProps: [StringStringEntryProto] = []
  var trainingInfo: [TrainingInfoProto] = []
  var functions: [FunctionProto] = []

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "ir_version"
    case 2: "producer_name"
    case 3: "producer_version"
    case 4: "domain"
    case 5: "model_version"
    case 6: "doc_string"
    case 7: "graph"
    case 8: "opset_import"
    case 14: "metadata_props"
    case 20: "training_info"
    case 25: "functions"
    case 26: "configuration"
    default: nil
    }
  }

  /// The wire type of each `ModelProto` field, for recognizing a model by its first bytes.
  static func wireType(of number: Int) -> WireType? {
    switch number {
    case 1, 5: .varint
    case 2, 3, 4, 6, 7, 8, 14, 20, 25, 26: .lengthDelimited
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: irVersion = try fields.int64(key)
    case 2: producerName = try fields.string(key)
    case 3: producerVersion = try fields.string(key)
    case 4: domain = try fields.string(key)
    case 5: modelVersion = try fields.int64(key)
    case 7: graph = try fields.message(key, GraphProto.self, &state)
    case 8:
      opsetImport.append(
        try fields.message(key, OperatorSetIdProto.self, &state, "[\(opsetImport.count)]"))
    case 14:
      metadataProps.append(
        try fields.message(key, StringStringEntryProto.self, &state, "[\(metadataProps.count)]"))
    case 20:
      trainingInfo.append(
        try fields.message(key, TrainingInfoProto.self, &state, "[\(trainingInfo.count)]"))
    case 25:
      functions.append(try fields.message(key, FunctionProto.self, &state, "[\(functions.count)]"))
    default: try fields.skip(key)
    }
  }
}
