import WeightScopeCore

/// A graph input, output or intermediate value: name and type (`onnx.proto` `ValueInfoProto`).
struct ValueInfoProto: ProtoMessage {
  var name = ""
  var type: ValueType?

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "name"
    case 2: "type"
    case 3: "doc_string"
    case 4: "metadata_props"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: name = try fields.string(key)
    case 2: type = try fields.message(key, TypeProto.self, &state).value
    default: try fields.skip(key)
    }
  }
}

/// A value's type as `TypeProto` describes it, reduced to what a listing prints.
indirect enum ValueType: Sendable, Equatable {
  case tensor(elemType: Int32, shape: [TensorShapeProto.Dimension]?)
  case sparseTensor(elemType: Int32, shape: [TensorShapeProto.Dimension]?)
  case sequence(ValueType?)
  case map(keyType: Int32, value: ValueType?)
  case optional(ValueType?)
  case opaque
  case unknown
}

/// The type of a value (`onnx.proto` `TypeProto`), one of its `oneof value` cases.
struct TypeProto: ProtoMessage {
  var value: ValueType = .unknown

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "tensor_type"
    case 4: "sequence_type"
    case 5: "map_type"
    case 6: "denotation"
    case 7: "opaque_type"
    case 8: "sparse_tensor_type"
    case 9: "optional_type"
    default: nil
    }
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1:
      let tensor = try fields.message(key, TensorType.self, &state)
      value = .tensor(elemType: tensor.elemType, shape: tensor.shape)
    case 8:
      let tensor = try fields.message(key, TensorType.self, &state)
      value = .sparseTensor(elemType: tensor.elemType, shape: tensor.shape)
    case 4: value = .sequence(try fields.message(key, Wrapper.self, &state).element)
    case 9: value = .optional(try fields.message(key, Wrapper.self, &state).element)
    case 5:
      let map = try fields.message(key, MapType.self, &state)
      value = .map(keyType: map.keyType, value: map.valueType)
    case 7:
      try fields.skip(key)
      value = .opaque
    default: try fields.skip(key)
    }
  }

  /// `TypeProto.Tensor` and `TypeProto.SparseTensor`: element type and optional shape.
  struct TensorType: ProtoMessage {
    var elemType: Int32 = 0
    var shape: [TensorShapeProto.Dimension]?

    static func fieldName(_ number: Int) -> String? {
      switch number {
      case 1: "elem_type"
      case 2: "shape"
      default: nil
      }
    }

    mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
      throws(ReadError)
    {
      switch key.number {
      case 1: elemType = try fields.int32(key)
      case 2: shape = try fields.message(key, TensorShapeProto.self, &state).dim
      default: try fields.skip(key)
      }
    }
  }

  /// `TypeProto.Sequence` and `TypeProto.Optional`: one element type in field 1.
  struct Wrapper: ProtoMessage {
    var element: ValueType?

    static func fieldName(_ number: Int) -> String? { number == 1 ? "elem_type" : nil }

    mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
      throws(ReadError)
    {
      switch key.number {
      case 1: element = try fields.message(key, TypeProto.self, &state).value
      default: try fields.skip(key)
      }
    }
  }

  /// `TypeProto.Map`: key element type and value type.
  struct MapType: ProtoMessage {
    var keyType: Int32 = 0
    var valueType: ValueType?

    static func fieldName(_ number: Int) -> String? {
      switch number {
      case 1: "key_type"
      case 2: "value_type"
      default: nil
      }
    }

    mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
      throws(ReadError)
    {
      switch key.number {
      case 1: keyType = try fields.int32(key)
      case 2: valueType = try fields.message(key, TypeProto.self, &state).value
      default: try fields.skip(key)
      }
    }
  }
}

/// A tensor's shape: each dimension a number, a symbolic name, or unknown (`onnx.proto`
/// `TensorShapeProto`).
struct TensorShapeProto: ProtoMessage {
  /// One dimension: `dim_value`, `dim_param`, or neither.
  enum Dimension: Sendable, Equatable {
    case value(Int64)
    case param(String)
    case unknown
  }

  var dim: [Dimension] = []

  static func fieldName(_ number: Int) -> String? { number == 1 ? "dim" : nil }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1:
      guard dim.count < state.limits.tensorRank else {
        throw ReadError(
          .limitExceeded, at: key.offset,
          "more than \(state.limits.tensorRank) dimensions (Limits.tensorRank)")
      }
      dim.append(try fields.message(key, DimensionProto.self, &state, "[\(dim.count)]").value)
    default: try fields.skip(key)
    }
  }

  /// `TensorShapeProto.Dimension` as a message.
  struct DimensionProto: ProtoMessage {
    var value: Dimension = .unknown

    static func fieldName(_ number: Int) -> String? {
      switch number {
      case 1: "dim_value"
      case 2: "dim_param"
      case 3: "denotation"
      default: nil
      }
    }

    mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
      throws(ReadError)
    {
      switch key.number {
      case 1: value = .value(try fields.int64(key))
      case 2: value = .param(try fields.string(key))
      default: try fields.skip(key)
      }
    }
  }
}
