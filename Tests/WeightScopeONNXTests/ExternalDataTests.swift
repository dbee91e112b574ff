import Foundation
import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopeONNX

/// External data: where the reader may look, and what it checks there.
@Suite struct ExternalDataTests {
  /// A model whose float32 tensor `w` of `elements` elements lives in `location`.
  static func model(
    location: String, offset: String? = nil, length: String? = nil, elements: Int = 4
  ) -> [UInt8] {
    func entry(_ key: String, _ value: String) -> [UInt8] {
      PB.bytes(13, PB.string(1, key) + PB.string(2, value))
    }
    var tensor =
      PB.varint(1, elements) + PB.varint(2, 1) + PB.string(8, "w") + entry("location", location)
    if let offset { tensor += entry("offset", offset) }
    if let length { tensor += entry("length", length) }
    tensor += PB.varint(14, 1)
    return PB.model(graph: PB.bytes(5, tensor))
  }

  /// A fresh folder holding `model.onnx` (from `bytes`) and `files`.
  static func folder(_ bytes: [UInt8], files: [String: Int] = [:]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("weightscope-onnx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try Data(bytes).write(to: dir.appendingPathComponent("model.onnx"))
    for (name, size) in files {
      let url = dir.appendingPathComponent(name)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(count: size).write(to: url)
    }
    return dir
  }

  static func read(_ dir: URL) throws(ReadError) -> WeightFile {
    let path = dir.appendingPathComponent("model.onnx").path
    do {
      return try ONNXReader.read(FileBytes(path: path), path: path, limits: .default)
    } catch {
      throw error
    }
  }

  @Test func dataInASubfolderIsFoundAndMeasured() throws {
    let dir = try Self.folder(
      Self.model(location: "weights/w.bin", offset: "16", length: "16"),
      files: ["weights/w.bin": 64])
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(
      file.tensors.first?.storage
        == TensorStorage(key: "weights/w.bin", recordBytes: 16, fileOffset: 16))
    #expect(file.findings == [])
  }

  @Test func lengthDefaultsToTheRestOfTheFile() throws {
    let dir = try Self.folder(Self.model(location: "w.bin", offset: "4"), files: ["w.bin": 20])
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(file.tensors.first?.storage?.recordBytes == 16)
    #expect(file.findings == [])
  }

  @Test(arguments: ["../w.bin", "a/../../w.bin", "/etc/passwd", ""])
  func locationsOutsideTheFolderAreRefused(location: String) throws {
    let dir = try Self.folder(Self.model(location: location), files: ["w.bin": 16])
    defer { try? FileManager.default.removeItem(at: dir) }
    let error = try #require(throws: ReadError.self) { try Self.read(dir) }
    #expect(error.kind == .refused)
    #expect(error.context == "ModelProto.graph.initializer[0].external_data")
    #expect(error.offset == 6)  // the tensor's first byte
  }

  @Test func symlinksLeavingTheFolderAreRefused() throws {
    let outside = try Self.folder([], files: ["secret.bin": 16])
    let dir = try Self.folder(Self.model(location: "link.bin"))
    defer {
      try? FileManager.default.removeItem(at: dir)
      try? FileManager.default.removeItem(at: outside)
    }
    try FileManager.default.createSymbolicLink(
      at: dir.appendingPathComponent("link.bin"),
      withDestinationURL: outside.appendingPathComponent("secret.bin"))
    let error = try #require(throws: ReadError.self) { try Self.read(dir) }
    #expect(error.kind == .refused)
    #expect(error.message.contains("outside the model's folder"))
  }

  @Test func symlinksInsideTheFolderAreFollowed() throws {
    let dir = try Self.folder(Self.model(location: "link.bin"), files: ["real/w.bin": 16])
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createSymbolicLink(
      atPath: dir.appendingPathComponent("link.bin").path, withDestinationPath: "real/w.bin")
    let file = try Self.read(dir)
    #expect(file.tensors.first?.storage?.recordBytes == 16)
    #expect(file.findings == [])
  }

  @Test func rangePastTheEndOfTheFileIsAFinding() throws {
    let dir = try Self.folder(
      Self.model(location: "w.bin", offset: "8", length: "16"), files: ["w.bin": 20])
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(file.findings.map(\.code) == ["onnx.external-range"])
    #expect(file.findings.first?.severity == .error)
  }

  @Test func offsetsPastFourGigabytesAreKept() throws {
    // A sparse file: 5 GiB long, nothing written.
    let dir = try Self.folder(Self.model(location: "big.bin", offset: "5368709104", length: "16"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let big = dir.appendingPathComponent("big.bin").path
    #expect(FileManager.default.createFile(atPath: big, contents: nil))
    #expect(truncate(big, 5 << 30) == 0)
    let file = try Self.read(dir)
    #expect(
      file.tensors.first?.storage
        == TensorStorage(key: "big.bin", recordBytes: 16, fileOffset: 5_368_709_104))
    #expect(file.findings == [])
  }

  @Test func lengthThatDisagreesWithTheShapeIsAFinding() throws {
    let dir = try Self.folder(Self.model(location: "w.bin", length: "12"), files: ["w.bin": 16])
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(file.findings.map(\.code) == ["onnx.data-size"])
  }

  @Test func missingFileIsAFinding() throws {
    let dir = try Self.folder(Self.model(location: "gone.bin"))
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(file.tensors.count == 1)
    #expect(file.findings.map(\.code) == ["onnx.external-missing"])
  }

  @Test func badOffsetTextIsAFinding() throws {
    let dir = try Self.folder(Self.model(location: "w.bin", offset: "-4"), files: ["w.bin": 16])
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try Self.read(dir)
    #expect(file.findings.map(\.code) == ["onnx.external-range"])
  }
}

/// Data that disagrees with a tensor's shape and type: findings, never crashes.
@Suite struct DataCheckTests {
  @Test func rawDataOfTheWrongSizeIsAnError() throws {
    let file = try readModel(
      PB.model(graph: PB.bytes(5, PB.tensor("w", dims: [2, 3], rawBytes: 20))))
    #expect(file.findings.map(\.code) == ["onnx.data-size"])
    #expect(file.findings.first?.severity == .error)
    #expect(file.findings.first?.offset == 4 + 2 + 2 + 2 + 2 + 3 + 2)
  }

  @Test func typedDataCountIsChecked() throws {
    // float32 [3] with two packed floats, then int64 [2] with two unpacked varints.
    let floats =
      PB.varint(1, 3) + PB.varint(2, 1) + PB.string(8, "f")
      + PB.bytes(4, [UInt8](repeating: 0, count: 8))
    let ints =
      PB.varint(1, 2) + PB.varint(2, 7) + PB.string(8, "i") + PB.varint(7, 5) + PB.varint(7, 300)
    let file = try readModel(PB.model(graph: PB.bytes(5, floats) + PB.bytes(5, ints)))
    #expect(file.findings.map(\.code) == ["onnx.data-size"])
    #expect(file.findings.first?.message.contains("needs 3 float_data values, has 2") == true)
    #expect(file.tensor("i")?.notes == ["data=int64_data"])
  }

  @Test func typedDataInTheWrongFieldIsAnError() throws {
    let tensor = PB.varint(1, 1) + PB.varint(2, 1) + PB.string(8, "f") + PB.varint(7, 5)
    let file = try readModel(PB.model(graph: PB.bytes(5, tensor)))
    #expect(file.findings.map(\.code) == ["onnx.data-field"])
  }

  @Test func fourBitIntegersShareInt32Entries() throws {
    // int4 [5]: three int32_data entries.
    let tensor =
      PB.varint(1, 5) + PB.varint(2, 22) + PB.string(8, "q") + PB.packed(5, [0x21, 0x43, 0x05])
    let file = try readModel(PB.model(graph: PB.bytes(5, tensor)))
    #expect(file.findings == [])
    #expect(file.tensors.first?.bytes == 3)
    #expect(file.tensors.first?.dtype == .int4)
  }

  @Test func unknownDataTypeIsUnsupported() throws {
    let tensor = PB.varint(1, 1) + PB.varint(2, 99) + PB.string(8, "x")
    let error = try #require(readError(PB.model(graph: PB.bytes(5, tensor))))
    #expect(error.kind == .unsupported)
    #expect(error.context == "ModelProto.graph.initializer[0].data_type")
    #expect(error.offset == 4 + 2 + 2 + 1)
  }

  @Test func negativeDimensionIsMalformed() throws {
    let tensor = PB.varint(1, -1) + PB.varint(2, 1) + PB.string(8, "x")
    let error = try #require(readError(PB.model(graph: PB.bytes(5, tensor))))
    #expect(error.kind == .malformed)
    #expect(error.context == "ModelProto.graph.initializer[0].dims")
  }

  @Test func elementCountOverflowIsAnError() throws {
    let tensor = PB.packed(1, [1 << 40, 1 << 40]) + PB.varint(2, 1) + PB.string(8, "x")
    let error = try #require(readError(PB.model(graph: PB.bytes(5, tensor))))
    #expect(error.kind == .overflow)
    #expect(error.context == "ModelProto.graph.initializer[0].dims")
  }

  @Test func constantFromValueIntsAndUnnamedNodes() throws {
    let attribute = PB.string(1, "value_ints") + PB.packed(8, [1, 2, 3]) + PB.varint(20, 7)
    let graph =
      PB.bytes(1, PB.node("Constant", inputs: [], outputs: ["k"], attributes: [attribute]))
      + PB.bytes(1, PB.node("Reshape", inputs: ["x", "k"], outputs: ["y"]))
    let file = try readModel(PB.model(graph: graph))
    let k = try #require(file.tensor("k"))
    #expect(k.shape == [3])
    #expect(k.dtype == .int64)
    #expect(k.uses == [OperatorUse(opType: "Reshape", node: "Reshape_1", inputIndex: 1)])
  }

  /// A hundred thousand nodes and initializers: a walk that is quadratic in them would take
  /// hours, which the time limit turns into a failure. (Speed is measured by
  /// `tools/bench_listing.py`, not here.)
  @Test(.timeLimit(.minutes(2))) func manyInitializersList() throws {
    let count = 100_000
    var graph: [UInt8] = []
    for i in 0..<count {
      graph += PB.bytes(1, PB.node("Mul", inputs: ["x\(i)", "w\(i)"], outputs: ["x\(i + 1)"]))
    }
    for i in 0..<count {
      graph += PB.bytes(5, PB.tensor("w\(i)", dims: [1]))
    }
    let bytes = PB.varint(1, 8) + PB.bytes(7, graph)
    let file = try readModel(bytes)
    #expect(file.tensors.count == count)
    #expect(file.tensors.last?.uses.map(\.node) == ["Mul_\(count - 1)"])
  }
}
