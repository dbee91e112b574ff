import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePyTorch

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
    object.tensor(
      key: "140000", numel: 10, shape: shape, stride: stride,
      view: view ? ("140016", viewStart, viewSize) : nil)
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
