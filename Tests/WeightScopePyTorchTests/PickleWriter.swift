import WeightScopeCore

/// Writes pickle protocol 2 opcodes by hand, to build legacy files opcode by opcode.
struct PickleWriter {
  var bytes: [UInt8] = [0x80, 2]

  /// One opcode byte: `"X"`, or `"\u{8a}"` for the ones outside ASCII.
  mutating func op(_ code: Character) {
    bytes.append(code.unicodeScalars.first.map { UInt8(truncatingIfNeeded: $0.value) } ?? 0)
  }
  mutating func string(_ text: String) {
    op("X")
    let utf8 = Array(text.utf8)
    withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
    bytes += utf8
  }
  mutating func int(_ value: Int) {
    op("J")
    withUnsafeBytes(of: Int32(value).littleEndian) { bytes += $0 }
  }
  mutating func global(_ module: String, _ name: String) {
    op("c")
    bytes += Array("\(module)\n\(name)\n".utf8)
  }
  mutating func tuple(_ items: [Int]) {
    op("(")
    for item in items { int(item) }
    op("t")
  }
  /// `torch._utils._rebuild_tensor_v2` over a float storage `key` of `numel` elements, with
  /// an optional legacy view `(viewKey, start, size)`.
  mutating func tensor(
    key: String, numel: Int, shape: [Int], stride: [Int], view: (String, Int, Int)? = nil
  ) {
    global("torch._utils", "_rebuild_tensor_v2")
    op("(")
    op("(")
    string("storage")
    global("torch", "FloatStorage")
    string(key)
    string("cpu")
    int(numel)
    if let (viewKey, start, size) = view {
      op("(")
      string(viewKey)
      int(start)
      int(size)
      op("t")
    } else {
      op("N")
    }
    op("t")
    op("Q")
    int(0)
    tuple(shape)
    tuple(stride)
    op("\u{89}")
    global("collections", "OrderedDict")
    op(")")
    op("R")
    op("t")
    op("R")
  }

  mutating func stop() -> [UInt8] {
    op(".")
    return bytes
  }
}

