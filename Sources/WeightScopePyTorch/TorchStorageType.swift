import WeightScopeModel
import WeightScopePickle

/// The element types of PyTorch's storage classes and dtype globals.
enum TorchStorageType {
  /// The element type of a typed storage class (`torch.FloatStorage`); nil for an untyped storage.
  ///
  /// - Returns: `.some(nil)` for `UntypedStorage`, nil for a name that is not a storage class.
  static func dtype(ofStorage global: PickleGlobal) -> DType?? {
    switch (global.module, global.name) {
    case ("torch", "UntypedStorage"), ("torch.storage", "UntypedStorage"): return .some(nil)
    case ("torch", _), ("torch.cuda", _):
      guard let dtype = typedStorageNames[global.name] else { return nil }
      return .some(dtype)
    default: return nil
    }
  }

  /// The dtype a `torch.<name>` dtype global names (`torch.float32`, `torch.half`).
  static func dtype(of global: PickleGlobal) -> DType? {
    guard global.module == "torch" else { return nil }
    guard let dtype = DType(rawValue: global.name) ?? aliases[global.name] else { return nil }
    // Storages hold whole bytes; the sub-byte and string types are ONNX's, not torch's.
    guard let bits = dtype.bitWidth, bits >= 8 else { return nil }
    return dtype
  }

  static let typedStorages: [String: DType] = [
    "Double": .float64, "Float": .float32, "Half": .float16, "BFloat16": .bfloat16,
    "Long": .int64, "Int": .int32, "Short": .int16, "Char": .int8, "Byte": .uint8, "Bool": .bool,
    "ComplexHalf": .complex32, "ComplexFloat": .complex64, "ComplexDouble": .complex128,
    "QInt8": .qint8, "QUInt8": .quint8, "QInt32": .qint32, "QUInt4x2": .quint4x2,
    "QUInt2x4": .quint2x4, "UInt16": .uint16, "UInt32": .uint32, "UInt64": .uint64,
    "Float8_e4m3fn": .float8_e4m3fn, "Float8_e4m3fnuz": .float8_e4m3fnuz,
    "Float8_e5m2": .float8_e5m2, "Float8_e5m2fnuz": .float8_e5m2fnuz,
    "Float8_e8m0fnu": .float8_e8m0fnu,
  ]

  /// `typedStorages` by class name: `FloatStorage` and so on.
  static let typedStorageNames: [String: DType] = Dictionary(
    uniqueKeysWithValues: typedStorages.map { ($0.key + "Storage", $0.value) })

  static let aliases: [String: DType] = [
    "float": .float32, "double": .float64, "half": .float16, "long": .int64, "int": .int32,
    "short": .int16, "cfloat": .complex64, "cdouble": .complex128, "chalf": .complex32,
  ]
}
