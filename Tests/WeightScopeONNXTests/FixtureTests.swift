import Foundation
import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopeONNX

/// What `tools/make_onnx_fixtures.py` says the onnx package reports for a fixture.
struct Expected: Decodable {
  struct Tensor: Decodable, Equatable {
    var name: String
    var shape: [Int]
    var dtype: String
    var section: String
  }

  var ir_version: Int
  var opsets: [[Opset]]
  var producer: String
  var graph: String
  var inputs: [String]
  var outputs: [String]
  var tensors: [Tensor]
  var count: Int
  var elements: Int
  var raw_data_offsets: [String: Int]
  var trainable: [String]?

  enum Opset: Decodable, Equatable {
    case text(String)
    case number(Int)

    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let number = try? container.decode(Int.self) {
        self = .number(number)
      } else {
        self = .text(try container.decode(String.self))
      }
    }

    var text: String {
      switch self {
      case .text(let text): text
      case .number(let number): String(number)
      }
    }
  }
}

enum Fixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
  static let names = [
    "conv_bn_gemm", "constant_node", "subgraphs", "sparse", "external", "training",
    "symbolic_batch",
  ]

  static func path(_ name: String) -> String {
    directory.appendingPathComponent("\(name).onnx").path
  }

  static func read(_ name: String) throws -> WeightFile {
    try ONNXReader.read(FileBytes(path: path(name)), path: path(name), limits: .default)
  }

  static func expected(_ name: String) throws -> Expected {
    let data = try Data(contentsOf: directory.appendingPathComponent("\(name).expected.json"))
    return try JSONDecoder().decode(Expected.self, from: data)
  }

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
  }
}

extension WeightFile {
  func tensor(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }
  func facts(_ key: String) -> [String] { facts.filter { $0.key == key }.map(\.value) }
}

@Suite struct FixtureTests {
  @Test(arguments: Fixtures.names)
  func tensorsMatchWhatOnnxReports(name: String) throws {
    let file = try Fixtures.read(name)
    let expected = try Fixtures.expected(name)
    let actual = file.tensors.map {
      Expected.Tensor(name: $0.name, shape: $0.shape, dtype: $0.dtype.rawValue, section: $0.section)
    }
    #expect(actual == expected.tensors)
    #expect(file.tensors.count == expected.count)
    #expect(file.tensors.reduce(0) { $0 + $1.elements } == expected.elements)
    #expect(file.format == .onnx)
    for tensor in file.tensors {
      #expect(tensor.bytes == tensor.dtype.byteCount(elements: tensor.elements))
    }
    #expect(file.findings == [], "\(file.findings)")
  }

  @Test(arguments: Fixtures.names)
  func factsMatchWhatOnnxReports(name: String) throws {
    let file = try Fixtures.read(name)
    let expected = try Fixtures.expected(name)
    #expect(file.facts("ir_version") == [String(expected.ir_version)])
    let opsets = expected.opsets.map { $0.map(\.text).joined(separator: " ") }.joined(
      separator: ", ")
    #expect(file.facts("opsets") == [opsets])
    #expect(file.facts("producer") == [expected.producer])
    #expect(file.facts("graph") == [expected.graph])
    #expect(file.facts("input") == expected.inputs)
    #expect(file.facts("output") == expected.outputs)
  }

  @Test(arguments: Fixtures.names)
  func inlineDataOffsetsPointAtThePayload(name: String) throws {
    let file = try Fixtures.read(name)
    let expected = try Fixtures.expected(name)
    for (tensorName, offset) in expected.raw_data_offsets {
      let tensor = try #require(file.tensor(tensorName))
      #expect(
        tensor.storage == TensorStorage(key: "", recordBytes: tensor.bytes, fileOffset: offset))
    }
  }

  @Test(arguments: Fixtures.names)
  func trainabilityFollowsUpdateBindings(name: String) throws {
    let file = try Fixtures.read(name)
    let expected = try Fixtures.expected(name)
    guard let trainable = expected.trainable else {
      #expect(file.tensors.allSatisfy { $0.declaredTrainable == nil })
      return
    }
    #expect(file.tensors.filter { $0.declaredTrainable == true }.map(\.name) == trainable)
    #expect(file.tensors.allSatisfy { $0.declaredTrainable != nil })
  }

  /// Every prefix of a fixture either throws a `ReadError` or ends exactly where a top-level
  /// field of the whole file ends (a shorter but valid model), and then still has a graph.
  @Test(arguments: Fixtures.names)
  func everyTruncatedPrefixThrowsOrEndsAtAFieldBoundary(name: String) throws {
    let bytes = try Fixtures.bytes(name)
    var boundaries: Set<Int> = []
    var fields = MessageReader(FileBytes(copying: bytes).reader())
    while let key = try fields.nextKey() {
      try fields.skip(key)
      boundaries.insert(fields.position)
    }
    let full = try Fixtures.read(name)
    var failures = 0
    var successes = 0
    for count in 0..<bytes.count {
      do {
        let file = try readModel(Array(bytes[..<count]), path: Fixtures.path(name))
        #expect(boundaries.contains(count), "prefix of \(count) bytes read as a model")
        // Such a prefix holds the whole graph: its tensors start the full model's list.
        let names = file.tensors.map(\.name)
        #expect(names == Array(full.tensors.map(\.name).prefix(names.count)))
        #expect(!names.isEmpty)
        successes += 1
      } catch {
        #expect(error.offset != nil)
        failures += 1
      }
    }
    #expect(failures > 0)
    #expect(successes <= boundaries.count)
  }

  @Test func convBatchNormGemmUses() throws {
    let file = try Fixtures.read("conv_bn_gemm")
    let conv = try #require(file.tensor("conv.weight"))
    #expect(
      conv.uses == [
        OperatorUse(
          opType: "Conv", node: "conv", inputIndex: 1,
          attributes: [
            "kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1], "group": [1],
          ])
      ])
    #expect(file.tensor("conv.bias")?.uses.map(\.inputIndex) == [2])
    let runningVar = try #require(file.tensor("bn.running_var"))
    #expect(runningVar.uses.map(\.opType) == ["BatchNormalization"])
    #expect(runningVar.uses.map(\.node) == ["BatchNormalization_1"])
    #expect(runningVar.uses.map(\.inputIndex) == [4])
    let fc = try #require(file.tensor("fc.weight"))
    #expect(fc.uses.map(\.attributes) == [["transB": [1]]])
    #expect(
      file.facts("operators") == ["Conv ×1, BatchNormalization ×1, Relu ×1, Flatten ×1, Gemm ×1"])
  }

  @Test func constantNodesHoldTensors() throws {
    let file = try Fixtures.read("constant_node")
    #expect(file.tensors.map(\.section) == ["constant", "constant", "constant"])
    let w = try #require(file.tensor("w"))
    #expect(w.uses.map(\.opType) == ["Add"])
    #expect(w.uses.map(\.inputIndex) == [1])
    #expect(file.tensor("shape")?.shape == [2])
    #expect(file.tensor("shape")?.dtype == .int64)
    #expect(file.tensor("alpha")?.shape == [])
  }

  @Test func subgraphWeightsAndOuterScopeUses() throws {
    let file = try Fixtures.read("subgraphs")
    #expect(file.tensor("then.bias")?.section == "subgraph If_0/then_branch")
    #expect(file.tensor("body.weight")?.section == "subgraph Loop_1/body")
    let outer = try #require(file.tensor("outer.scale"))
    #expect(outer.section == "")
    #expect(outer.uses.map(\.graph) == ["If_0/else_branch", "Loop_1/body"])
    #expect(outer.uses.map(\.opType) == ["Mul", "Add"])
    #expect(file.tensor("body.weight")?.uses.map(\.graph) == ["Loop_1/body"])
    #expect(file.tensor("trip_count")?.uses.map(\.opType) == ["Loop"])
    // onnx.helper stores attributes sorted by name: else_branch comes before then_branch.
    #expect(file.facts("operators") == ["If ×1, Mul ×1, Add ×2, Loop ×1, Identity ×1, MatMul ×1"])
  }

  @Test func sparseInitializerHasItsDenseShape() throws {
    let file = try Fixtures.read("sparse")
    let sparse = try #require(file.tensor("sparse.weight"))
    #expect(sparse.shape == [4, 5])
    #expect(sparse.elements == 20)
    #expect(sparse.notes.contains("nnz=3"))
    #expect(sparse.uses.map(\.opType) == ["MatMul"])
  }

  @Test func externalDataIsLocatedAndMeasured() throws {
    let file = try Fixtures.read("external")
    let weight = try #require(file.tensor("ext.weight"))
    #expect(weight.storage?.key == "external.bin")
    #expect(weight.storage?.recordBytes == 8 * 16 * 4)
    let bias = try #require(file.tensor("ext.bias"))
    let biasOffset = try #require(bias.storage?.fileOffset)
    #expect(biasOffset >= 512)
    #expect(bias.storage?.recordBytes == 32)
    #expect(weight.notes.contains("location=external.bin"))
  }

  @Test func trainingInfoMarksUpdatedInitializers() throws {
    let file = try Fixtures.read("training")
    #expect(file.tensor("fc.weight")?.declaredTrainable == true)
    #expect(file.tensor("fc.bias")?.declaredTrainable == false)
    let step = try #require(file.tensor("step"))
    #expect(step.declaredTrainable == false)
    #expect(step.notes.contains("mutable"))
    #expect(file.tensor("lr")?.notes.contains("mutable") == false)
    #expect(
      file.tensor("fc.weight")?.uses.map(\.graph) == [
        "", "training_info[0]/algorithm", "training_info[0]/algorithm",
      ])
  }

  @Test func symbolicDimsPassThroughsAndFunctions() throws {
    let file = try Fixtures.read("symbolic_batch")
    #expect(file.facts("input") == ["x: float32[batch,8]"])
    let quantized = try #require(file.tensor("w.quantized"))
    #expect(quantized.dtype == .int8)
    #expect(quantized.notes.contains("data=int32_data"))
    #expect(quantized.uses.map(\.opType) == ["DequantizeLinear", "MatMul"])
    #expect(quantized.uses.map(\.inputIndex) == [0, 1])
    #expect(quantized.uses.last?.node == "matmul")
    #expect(file.tensor("w.scale")?.uses.map(\.opType) == ["DequantizeLinear"])
    let bias = try #require(file.tensor("bias"))
    #expect(
      bias.uses == [
        OperatorUse(opType: "AddBias", node: "AddBias_2", domain: "local", inputIndex: 1)
      ])
    let half = try #require(file.tensor("half"))
    #expect(half.section == "function local.AddBias: constant")
    #expect(half.uses.map(\.graph) == ["function local.AddBias"])
    #expect(file.facts("metadata.author") == ["weightscope"])
    #expect(file.facts("functions") == ["AddBias"])
    #expect(file.facts("opsets") == ["ai.onnx 17, local 1"])
  }

  @Test(arguments: Fixtures.names)
  func fixturesLookLikeONNX(name: String) throws {
    #expect(ONNXReader.looksLikeONNX(try FileBytes(path: Fixtures.path(name)).reader()))
  }

  @Test(arguments: Fixtures.names)
  func truncatedModelsStillLookLikeONNX(name: String) throws {
    // Cut inside the graph: still a model, so the reader can say where it ends.
    let file = try FileBytes(path: Fixtures.path(name))
    let whole = withExtendedLifetime(file) { Array(file.buffer) }
    let cut = FileBytes(copying: whole.prefix(whole.count / 2))
    #expect(ONNXReader.looksLikeONNX(cut.reader()))
    do {
      _ = try ONNXReader.read(cut, path: "cut.onnx", limits: Limits())
      Issue.record("\(name): half a model read without an error")
    } catch {
      #expect(error.kind == .truncated)
      #expect(error.context.hasPrefix("ModelProto"), "\(error)")
    }
  }

  @Test func otherFormatsDoNotLookLikeONNX() {
    let samples: [[UInt8]] = [
      [], Array("PK\u{03}\u{04}\u{14}\u{00}\u{00}\u{00}".utf8), [0x80, 0x02, 0x63, 0x5f],
      Array("GGUF\u{03}\u{00}".utf8), Array("{\"a\": 1}".utf8), [0x08, 0x00],
    ]
    for sample in samples {
      #expect(!ONNXReader.looksLikeONNX(FileBytes(copying: sample).reader()), "\(sample)")
    }
  }
}
