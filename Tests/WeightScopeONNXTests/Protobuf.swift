import WeightScopeCore
import WeightScopeModel

@testable import WeightScopeONNX

/// Builds protobuf bytes by hand for byte-literal tests.
enum PB {
  static func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var bytes: [UInt8] = []
    while value >= 0x80 {
      bytes.append(UInt8(value & 0x7f) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
    return bytes
  }

  static func key(_ number: Int, _ wireType: UInt8) -> [UInt8] {
    varint(UInt64(number) << 3 | UInt64(wireType))
  }

  static func varint(_ number: Int, _ value: Int) -> [UInt8] {
    key(number, 0) + varint(UInt64(bitPattern: Int64(value)))
  }

  static func bytes(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
    key(number, 2) + varint(UInt64(payload.count)) + payload
  }

  static func string(_ number: Int, _ text: String) -> [UInt8] {
    bytes(number, Array(text.utf8))
  }

  static func packed(_ number: Int, _ values: [Int]) -> [UInt8] {
    bytes(number, values.flatMap { varint(UInt64(bitPattern: Int64($0))) })
  }

  // ONNX messages.

  /// A float32 `TensorProto` with raw data of the right size.
  static func tensor(_ name: String, dims: [Int], dataType: Int = 1, rawBytes: Int? = nil)
    -> [UInt8]
  {
    let count = dims.reduce(1, *) * 4
    return dims.flatMap { varint(1, $0) } + varint(2, dataType) + string(8, name)
      + bytes(9, [UInt8](repeating: 0, count: rawBytes ?? count))
  }

  static func graph(_ fields: [UInt8]) -> [UInt8] { bytes(7, fields) }

  /// `ir_version 8`, an opset, and `graph`.
  static func model(graph fields: [UInt8]) -> [UInt8] {
    varint(1, 8) + graph(fields) + bytes(8, varint(2, 17))
  }

  static func node(
    _ opType: String, inputs: [String], outputs: [String], name: String = "",
    attributes: [[UInt8]] = []
  ) -> [UInt8] {
    inputs.flatMap { string(1, $0) } + outputs.flatMap { string(2, $0) }
      + (name.isEmpty ? [] : string(3, name)) + string(4, opType)
      + attributes.flatMap { bytes(5, $0) }
  }
}

/// Reads `bytes` as a model file called `path`.
func readModel(_ bytes: [UInt8], path: String = "memory.onnx", limits: Limits = .default)
  throws(ReadError) -> WeightFile
{
  try ONNXReader.read(FileBytes(copying: bytes, label: path), path: path, limits: limits)
}

/// The error reading `bytes` throws, or nil when it reads.
func readError(_ bytes: [UInt8], limits: Limits = .default) -> ReadError? {
  do {
    _ = try readModel(bytes, limits: limits)
    return nil
  } catch {
    return error
  }
}
