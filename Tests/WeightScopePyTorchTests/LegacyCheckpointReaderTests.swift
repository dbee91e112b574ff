import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePyTorch

/// Writes pickle protocol 2 opcodes by hand, to build legacy files opcode by opcode.
private struct PickleWriter {
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
  mutating func stop() -> [UInt8] {
    op(".")
    return bytes
  }
}

/// A legacy file holding `{"a": view, "b": tensor}` over one float storage of 10 elements.
///
/// `a` is a [2, 3] tensor in a view `viewStart` elements into the storage, `viewSize` long.
private func legacyFile(viewStart: Int, viewSize: Int, storageBytes: UInt8 = 0) -> [UInt8] {
  var magic = PickleWriter()
  magic.op("\u{8a}")
  magic.bytes += [10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
  var version = PickleWriter()
  version.int(1001)
  var sysInfo = PickleWriter()
  sysInfo.op("}")
  sysInfo.string("little_endian")
  sysInfo.op("\u{88}")
  sysInfo.op("s")

  var object = PickleWriter()
  object.op("}")
  for (name, view, shape, stride) in [
    ("a", true, [2, 3], [3, 1]), ("b", false, [4], [1]),
  ] {
    object.string(name)
    object.global("torch._utils", "_rebuild_tensor_v2")
    object.op("(")
    object.op("(")
    object.string("storage")
    object.global("torch", "FloatStorage")
    object.string("140000")
    object.string("cpu")
    object.int(10)
    if view {
      object.op("(")
      object.string("140016")
      object.int(viewStart)
      object.int(viewSize)
      object.op("t")
    } else {
      object.op("N")
    }
    object.op("t")
    object.op("Q")
    object.int(0)
    object.tuple(shape)
    object.tuple(stride)
    object.op("\u{89}")
    object.global("collections", "OrderedDict")
    object.op(")")
    object.op("R")
    object.op("t")
    object.op("R")
    object.op("s")
  }
  var keys = PickleWriter()
  keys.op("]")
  keys.op("(")
  keys.string("140000")
  keys.op("e")

  var file = magic.stop() + version.stop() + sysInfo.stop() + object.stop() + keys.stop()
  withUnsafeBytes(of: Int64(10).littleEndian) { file += $0 }
  file += [UInt8](repeating: storageBytes, count: 40)
  return file
}

@Suite struct LegacyCheckpointReaderTests {
  @Test func viewsOffsetIntoTheirRootStorage() throws {
    let bytes = legacyFile(viewStart: 4, viewSize: 6)
    let file = try LegacyCheckpointReader.read(
      FileBytes(copying: bytes), path: "views.pt", limits: .default)
    #expect(file.format == .pytorchLegacy)
    #expect(file.tensors.map(\.name) == ["a", "b"])
    let a = try #require(file.tensors.first?.storage)
    let b = try #require(file.tensors.last?.storage)
    let dataStart = bytes.count - 40
    #expect(a.offsetElements == 4)
    #expect(a.fileOffset == dataStart + 16)
    #expect(b.fileOffset == dataStart)
    #expect(a.recordBytes == 40)
    #expect(file.tensors.last?.sharedWith == "a")
    #expect(file.facts.contains(FileFact("storages", "1, 40 bytes")))
    #expect(file.findings.isEmpty)
  }

  @Test func storageBytesAreNeverRead() throws {
    let zeros = try LegacyCheckpointReader.read(
      FileBytes(copying: legacyFile(viewStart: 4, viewSize: 6, storageBytes: 0)), path: "x.pt",
      limits: .default)
    let ones = try LegacyCheckpointReader.read(
      FileBytes(copying: legacyFile(viewStart: 4, viewSize: 6, storageBytes: 0xff)), path: "x.pt",
      limits: .default)
    #expect(zeros == ones)
  }

  @Test func viewPastItsStorageIsMalformed() throws {
    // 8 + 6 elements overrun the 10-element storage.
    do {
      _ = try LegacyCheckpointReader.read(
        FileBytes(copying: legacyFile(viewStart: 8, viewSize: 6)), path: "bad.pt",
        limits: .default)
      Issue.record("a view past its storage was accepted")
    } catch {
      #expect(error.kind == .malformed)
      #expect(error.context.contains("object pickle"))
    }
  }

  @Test func tensorPastItsViewsRootIsMalformed() throws {
    // The view (5 elements at 5) fits its 10-element storage, but a [2, 3] tensor in it ends
    // at element 11.
    #expect(throws: ReadError.self) {
      try LegacyCheckpointReader.read(
        FileBytes(copying: legacyFile(viewStart: 5, viewSize: 5)), path: "bad.pt",
        limits: .default)
    }
  }

  @Test func trailingBytesAreAFinding() throws {
    let file = try LegacyCheckpointReader.read(
      FileBytes(copying: legacyFile(viewStart: 0, viewSize: 6) + [1, 2, 3]), path: "t.pt",
      limits: .default)
    #expect(file.findings.contains { $0.code == "legacy.trailing-bytes" })
  }
}
