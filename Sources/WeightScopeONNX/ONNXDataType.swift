import WeightScopeCore
import WeightScopeModel

/// `TensorProto.DataType` values and what they mean for sizes and typed data fields.
enum ONNXDataType {
  /// The element type for a `TensorProto.DataType` value; nil for `UNDEFINED` and unknown values.
  static func dtype(_ value: Int32) -> DType? {
    switch value {
    case 1: .float32
    case 2: .uint8
    case 3: .int8
    case 4: .uint16
    case 5: .int16
    case 6: .int32
    case 7: .int64
    case 8: .string
    case 9: .bool
    case 10: .float16
    case 11: .float64
    case 12: .uint32
    case 13: .uint64
    case 14: .complex64
    case 15: .complex128
    case 16: .bfloat16
    case 17: .float8_e4m3fn
    case 18: .float8_e4m3fnuz
    case 19: .float8_e5m2
    case 20: .float8_e5m2fnuz
    case 21: .uint4
    case 22: .int4
    case 23: .float4_e2m1
    case 24: .float8_e8m0fnu
    case 25: .uint2
    case 26: .int2
    case 27: .float6_e2m3
    case 28: .float6_e3m2
    default: nil
    }
  }

  /// A data type's name for messages: the `DType` spelling, or `type N` for unknown values.
  static func name(_ value: Int32) -> String {
    dtype(value)?.rawValue ?? "type \(value)"
  }

  /// The typed data field `onnx.proto` says holds `dtype`'s values, and how many entries
  /// `elements` elements take there (complex numbers take two, sub-byte types share entries).
  static func typedField(for dtype: DType, elements: Int) -> (TensorProto.DataField, Int)? {
    switch dtype {
    case .float32: (.floatData, elements)
    case .complex64: (.floatData, elements.multipliedReportingOverflow(by: 2).partialValue)
    case .float64: (.doubleData, elements)
    case .complex128: (.doubleData, elements.multipliedReportingOverflow(by: 2).partialValue)
    case .int64: (.int64Data, elements)
    case .uint32, .uint64: (.uint64Data, elements)
    case .string: (.stringData, elements)
    case .int4, .uint4, .float4_e2m1: (.int32Data, elements / 2 + elements % 2)
    case .int2, .uint2: (.int32Data, elements / 4 + (elements % 4 == 0 ? 0 : 1))
    case .int32, .int16, .int8, .uint16, .uint8, .bool, .float16, .bfloat16, .float8_e4m3fn,
      .float8_e4m3fnuz, .float8_e5m2, .float8_e5m2fnuz, .float8_e8m0fnu, .float6_e2m3, .float6_e3m2:
      (.int32Data, elements)
    default: nil
    }
  }
}
