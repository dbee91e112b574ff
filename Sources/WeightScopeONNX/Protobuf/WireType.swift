import WeightScopeCore

/// How a protobuf field's value is encoded, the low three bits of its key.
///
/// See https://protobuf.dev/programming-guides/encoding/#structure. Groups (3 and 4) are valid
/// protobuf but never appear in ONNX, so they are rejected; 6 and 7 are not wire types at all.
enum WireType: UInt8, Sendable, Equatable {
  case varint = 0
  case fixed64 = 1
  case lengthDelimited = 2
  case startGroup = 3
  case endGroup = 4
  case fixed32 = 5

  var name: String {
    switch self {
    case .varint: "varint"
    case .fixed64: "fixed64"
    case .lengthDelimited: "length-delimited"
    case .startGroup: "start-group"
    case .endGroup: "end-group"
    case .fixed32: "fixed32"
    }
  }
}
