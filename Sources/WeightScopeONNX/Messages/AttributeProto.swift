import WeightScopeCore

/// A node attribute: integers and lists of integers kept, tensors and graphs decoded, floats and
/// strings only counted (`onnx.proto` `AttributeProto`).
struct AttributeProto: ProtoMessage {
  /// `AttributeProto.AttributeType` values this reader acts on.
  enum Kind {
    static let tensor: Int32 = 4
    static let graph: Int32 = 5
    static let sparseTensor: Int32 = 11
  }

  var offset = 0
  var name = ""
  var type: Int32 = 0
  var i: Int64?
  var hasF = false
  var hasS = false
  /// The first values of `ints` (up to `Limits.tensorRank`); `intsCount` counts them all.
  var ints: [Int] = []
  var intsCount = 0
  var floatsCount = 0
  var stringsCount = 0
  var tensors: [TensorProto] = []
  var graphs: [GraphProto] = []
  var sparseTensors: [SparseTensorProto] = []
  // The single values are kept in arrays of at most one element, allocated only when present,
  // so that the common integer attribute stays small to copy.
  private var tBox: [TensorProto] = []
  private var gBox: [GraphProto] = []
  private var sparseTensorBox: [SparseTensorProto] = []

  var t: TensorProto? { tBox.first }
  var g: GraphProto? { gBox.first }
  var sparseTensor: SparseTensorProto? { sparseTensorBox.first }

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "name"
    case 2: "f"
    case 3: "i"
    case 4: "s"
    case 5: "t"
    case 6: "g"
    case 7: "floats"
    case 8: "ints"
    case 9: "strings"
    case 10: "tensors"
    case 11: "graphs"
    case 13: "doc_string"
    case 14: "tp"
    case 15: "type_protos"
    case 20: "type"
    case 21: "ref_attr_name"
    case 22: "sparse_tensor"
    case 23: "sparse_tensors"
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
    case 1: name = try fields.string(key)
    case 2:
      try fields.expect(key, .fixed32)
      try fields.skip(key)
      hasF = true
    case 3: i = try fields.int64(key)
    case 4:
      _ = try fields.lengthDelimited(key)
      hasS = true
    case 5: tBox = [try fields.message(key, TensorProto.self, &state)]
    case 6: gBox = [try fields.message(key, GraphProto.self, &state)]
    case 7: floatsCount += try fields.countScalars(key, element: .fixed32).lowerBound
    case 8: intsCount += try fields.appendInt64s(key, to: &ints, limit: state.limits.tensorRank)
    case 9:
      _ = try fields.lengthDelimited(key)
      stringsCount += 1
    case 10: tensors.append(try fields.message(key, TensorProto.self, &state, "[\(tensors.count)]"))
    case 11: graphs.append(try fields.message(key, GraphProto.self, &state, "[\(graphs.count)]"))
    case 14: _ = try fields.message(key, TypeProto.self, &state)
    case 15: _ = try fields.message(key, TypeProto.self, &state)
    case 20: type = try fields.int32(key)
    case 22: sparseTensorBox = [try fields.message(key, SparseTensorProto.self, &state)]
    case 23:
      sparseTensors.append(
        try fields.message(key, SparseTensorProto.self, &state, "[\(sparseTensors.count)]"))
    default: try fields.skip(key)
    }
  }

  /// Whether this is an integer or integer-list attribute, the kind `OperatorUse` keeps.
  var integerValues: [Int]? {
    if let i { return [Int(truncatingIfNeeded: i)] }
    if intsCount > 0 || type == 7 { return ints }
    return nil
  }
}
