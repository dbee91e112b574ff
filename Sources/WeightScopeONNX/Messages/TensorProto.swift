import WeightScopeCore

/// A tensor's metadata: name, dims, element type, and where its data is (`onnx.proto`
/// `TensorProto`). Data fields are measured and skipped, never copied.
struct TensorProto: ProtoMessage {
  /// Where the values are stored.
  enum DataField: Int, Sendable {
    case floatData = 4, int32Data = 5, stringData = 6, int64Data = 7
    case doubleData = 10, uint64Data = 11

    var name: String {
      switch self {
      case .floatData: "float_data"
      case .int32Data: "int32_data"
      case .stringData: "string_data"
      case .int64Data: "int64_data"
      case .doubleData: "double_data"
      case .uint64Data: "uint64_data"
      }
    }
  }

  /// Offset of the message's first byte.
  var offset = 0
  var name = ""
  var dims: [Int] = []
  /// Offset of the first `dims` value, for messages about the shape.
  var dimsOffset: Int?
  /// `TensorProto.DataType` as stored; 0 (`UNDEFINED`) when absent.
  var dataType: Int32 = 0
  var dataTypeOffset: Int?
  /// Absolute byte range of `raw_data`'s payload.
  var rawData: Range<Int>?
  /// The typed data field that holds values, if any (the last one seen).
  var typedField: DataField?
  /// Values in typed data fields: exact, or bounded for large packed varint arrays.
  var typedCount: ClosedRange<Int> = 0...0
  /// Typed data fields of more than one kind were present.
  var mixedTypedFields = false
  var externalData: [StringStringEntryProto] = []
  /// `DataLocation`: 0 `DEFAULT`, 1 `EXTERNAL`.
  var dataLocation: Int32 = 0
  var hasSegment = false

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "dims"
    case 2: "data_type"
    case 3: "segment"
    case 8: "name"
    case 9: "raw_data"
    case 12: "doc_string"
    case 13: "external_data"
    case 14: "data_location"
    case 16: "metadata_props"
    default: DataField(rawValue: number)?.name
    }
  }

  mutating func begin(_ fields: MessageReader, _ state: inout ProtoState) {
    offset = fields.position
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1:
      // Gathered in `state.dimsScratch` and made an array in `end`.
      let at = fields.position
      if dimsOffset == nil {
        dimsOffset = at
        state.dimsScratch.removeAll(keepingCapacity: true)
      }
      let limit = state.limits.tensorRank
      try fields.appendInt64s(key, to: &state.dimsScratch, limit: limit + 1)
      if state.dimsScratch.count > limit {
        throw ReadError(
          .limitExceeded, at: at,
          "more than \(limit) dimensions (Limits.tensorRank)")
      }
    case 2:
      dataTypeOffset = fields.position
      dataType = try fields.int32(key)
    case 3:
      hasSegment = true
      try fields.expect(key, .lengthDelimited)
      try fields.skip(key)
    case 8: name = try fields.string(key)
    case 9:
      rawData = try fields.lengthDelimited(key)
    case 13:
      externalData.append(
        try fields.message(key, StringStringEntryProto.self, &state, "[\(externalData.count)]"))
    case 14: dataLocation = try fields.int32(key)
    default:
      guard let field = DataField(rawValue: key.number) else {
        try fields.skip(key)
        return
      }
      let count: ClosedRange<Int>
      switch field {
      case .floatData: count = try fields.countScalars(key, element: .fixed32)
      case .doubleData: count = try fields.countScalars(key, element: .fixed64)
      case .int32Data, .int64Data, .uint64Data:
        count = try fields.countScalars(key, element: .varint)
      case .stringData:
        _ = try fields.lengthDelimited(key)
        count = 1...1
      }
      if let typedField, typedField != field { mixedTypedFields = true }
      typedField = field
      typedCount =
        (typedCount.lowerBound + count.lowerBound)...(typedCount.upperBound + count.upperBound)
    }
  }

  mutating func end(_ state: inout ProtoState) {
    if dimsOffset != nil { dims = state.takeDims() }
  }

  /// Whether the values live in another file.
  var isExternal: Bool { dataLocation == 1 }

  /// The value of an `external_data` key (the last one, as protobuf maps do).
  func external(_ key: String) -> String? {
    externalData.last(where: { $0.key == key })?.value
  }
}

/// A sparse tensor: values of shape [NNZ], indices, and the dense shape (`onnx.proto`
/// `SparseTensorProto`).
struct SparseTensorProto: ProtoMessage {
  var offset = 0
  var values: TensorProto?
  var indices: TensorProto?
  var dims: [Int] = []

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "values"
    case 2: "indices"
    case 3: "dims"
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
    case 1: values = try fields.message(key, TensorProto.self, &state)
    case 2: indices = try fields.message(key, TensorProto.self, &state)
    case 3:
      let at = fields.position
      let limit = state.limits.tensorRank
      try fields.appendInt64s(key, to: &dims, limit: limit + 1)
      if dims.count > limit {
        throw ReadError(.limitExceeded, at: at, "more than \(limit) dimensions (Limits.tensorRank)")
      }
    default: try fields.skip(key)
    }
  }

  /// The name the sparse tensor goes by: its values tensor's name.
  var name: String { values?.name ?? "" }
}
