/// An element type, spelled as PyTorch spells it (`float32`, `bfloat16`, `float8_e4m3fn`).
///
/// ONNX types map onto the same names; the few with no PyTorch equivalent (`string`, `int4`)
/// use ONNX's lower-case spelling.
public enum DType: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
  case float64, float32, float16, bfloat16
  case float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu
  case float4_e2m1fn_x2
  case complex32, complex64, complex128
  case int8, int16, int32, int64
  case uint8, uint16, uint32, uint64
  case bool
  case qint8, quint8, qint32, quint4x2, quint2x4
  /// PyTorch's uninterpreted bit containers (`torch.bits8`, `torch.bits16`, and the packed
  /// `bits1x8`, `bits2x4`, `bits4x2`): raw bits with no arithmetic meaning.
  case bits8, bits16, bits1x8, bits2x4, bits4x2
  /// 4-bit integers, two to a byte (ONNX `INT4`/`UINT4`).
  case int4, uint4
  /// ONNX `FLOAT4E2M1`: 4-bit floats, two to a byte.
  case float4_e2m1
  /// 2-bit integers, four to a byte (ONNX `INT2`/`UINT2`).
  case int2, uint2
  /// ONNX `FLOAT6E2M3`/`FLOAT6E3M2`: 6-bit floats, four packed into three bytes.
  case float6_e2m3, float6_e3m2
  /// ONNX strings: variable length, no fixed size.
  case string

  /// Bits one element occupies; nil for `string`.
  public var bitWidth: Int? {
    switch self {
    case .float64, .int64, .uint64, .complex64: return 64
    case .complex128: return 128
    case .float32, .int32, .uint32, .qint32, .complex32: return 32
    case .float16, .bfloat16, .int16, .uint16, .bits16: return 16
    case .float8_e4m3fn, .float8_e4m3fnuz, .float8_e5m2, .float8_e5m2fnuz, .float8_e8m0fnu,
      .int8, .uint8, .bool, .qint8, .quint8, .quint4x2, .quint2x4, .float4_e2m1fn_x2,
      .bits8, .bits1x8, .bits2x4, .bits4x2:
      return 8
    case .float6_e2m3, .float6_e3m2: return 6
    case .int4, .uint4, .float4_e2m1: return 4
    case .int2, .uint2: return 2
    case .string: return nil
    }
  }

  /// Bytes `elements` elements occupy (sub-byte types round up); nil for `string` or on overflow.
  public func byteCount(elements: Int) -> Int? {
    guard let bits = bitWidth else { return nil }
    let (total, overflow) = elements.multipliedReportingOverflow(by: bits)
    guard !overflow else { return nil }
    return (total + 7) / 8
  }

  /// Floating point and complex types: the ones a trained weight is stored in.
  public var isFloatingPoint: Bool {
    switch self {
    case .float64, .float32, .float16, .bfloat16, .float8_e4m3fn, .float8_e4m3fnuz, .float8_e5m2,
      .float8_e5m2fnuz, .float8_e8m0fnu, .float4_e2m1fn_x2, .float4_e2m1, .float6_e2m3,
      .float6_e3m2, .complex32, .complex64, .complex128:
      return true
    default: return false
    }
  }

  /// Quantized integer types, which stand for trained floating-point weights.
  public var isQuantized: Bool {
    switch self {
    case .qint8, .quint8, .qint32, .quint4x2, .quint2x4: return true
    default: return false
    }
  }
}
