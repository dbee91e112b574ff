import WeightScopeCore

/// A key/value pair: metadata, external data fields, training bindings (`onnx.proto`
/// `StringStringEntryProto`).
struct StringStringEntryProto: ProtoMessage, Equatable {
  var key = ""
  var value = ""

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "key"
    case 2: "value"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: self.key = try fields.string(key)
    case 2: value = try fields.string(key)
    default: try fields.skip(key)
    }
  }
}

/// An operator set the model imports: domain (empty for `ai.onnx`) and version
/// (`onnx.proto` `OperatorSetIdProto`).
struct OperatorSetIdProto: ProtoMessage, Equatable {
  var domain = ""
  var version: Int64 = 0

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "domain"
    case 2: "version"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: domain = try fields.string(key)
    case 2: version = try fields.int64(key)
    default: try fields.skip(key)
    }
  }
}
