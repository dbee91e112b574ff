import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopeONNX

/// A large main graph's first initializers listed on another core (`InitializerSplit`) give
/// what the one pass gives: the same tensors, uses, findings and facts, or the same error.
@Suite struct InitializerSplitTests {
  /// `count` nodes, each using one initializer, then `count` initializers. `dataType` and
  /// `rawBytes` change single initializers; `rename` names one after another's name.
  static func model(
    count: Int, dataType: [Int: Int] = [:], rawBytes: [Int: Int] = [:], rename: [Int: Int] = [:]
  ) -> [UInt8] {
    var graph: [UInt8] = []
    for i in 0..<count {
      graph += PB.bytes(1, PB.node("Add", inputs: ["x\(i)", "w\(i)"], outputs: ["x\(i + 1)"]))
    }
    for i in 0..<count {
      graph += PB.bytes(
        5,
        PB.tensor(
          "w\(rename[i] ?? i)", dims: [2], dataType: dataType[i] ?? 1, rawBytes: rawBytes[i]))
    }
    graph += PB.bytes(11, PB.string(1, "x0"))
    return PB.model(graph: graph)
  }

  /// The model read with a split, how many initializers went to the other core, and the model
  /// read in one pass; each a file or the error it threw.
  static func both(_ bytes: [UInt8], limits: Limits = .default)
    -> (split: Result<WeightFile, ReadError>, apart: Int, onePass: Result<WeightFile, ReadError>)
  {
    let file = FileBytes(copying: bytes, label: "memory.onnx")
    let split = InitializerSplit(
      limits: limits, externals: ExternalDataResolver(modelPath: "memory.onnx"), bytes: file,
      proto: "ModelProto.graph")
    let read = Result { () throws(ReadError) in
      try ONNXReader.read(file, path: "memory.onnx", limits: limits, splitting: split)
    }
    let onePass = Result { () throws(ReadError) in
      try ONNXReader.read(file, path: "memory.onnx", limits: limits, split: nil)
    }
    return (read, split.count, onePass)
  }

  @Test func largeGraphSplitsAndMatchesOnePass() throws {
    let count = 5000
    let (split, apart, onePass) = Self.both(Self.model(count: count))
    // Three tenths of nodes and initializers together go to the other core.
    #expect(apart == 3000)
    let file = try split.get()
    #expect(file == (try onePass.get()))
    #expect(file.tensors.count == count)
    #expect(file.tensors.map(\.name) == (0..<count).map { "w\($0)" })
    #expect(file.tensors[2999].uses.map(\.node) == ["Add_2999"])
    #expect(file.tensors[3000].uses.map(\.node) == ["Add_3000"])
  }

  /// The rest of the walk goes on from the other core's collector: a sparse initializer after
  /// the dense ones, a `Constant` node's tensor, an `Identity` that passes an initializer on
  /// under a new name, and a subgraph that uses an initializer from the main graph's scope.
  @Test func theWalkGoesOnFromTheOtherCoresNames() throws {
    let count = 5000
    var graph: [UInt8] = []
    for i in 0..<count {
      graph += PB.bytes(1, PB.node("Add", inputs: ["x\(i)", "w\(i)"], outputs: ["x\(i + 1)"]))
    }
    graph += PB.bytes(
      1,
      PB.node(
        "Constant", inputs: [], outputs: ["c"],
        attributes: [PB.string(1, "value") + PB.bytes(5, PB.tensor("", dims: [3])) + PB.varint(20, 4)]))
    graph += PB.bytes(1, PB.node("Identity", inputs: ["w7"], outputs: ["w7_alias"]))
    graph += PB.bytes(1, PB.node("Mul", inputs: ["x0", "w7_alias"], outputs: ["y"]))
    let body =
      PB.bytes(1, PB.node("Mul", inputs: ["x0", "w4999"], outputs: ["z"])) + PB.string(2, "body")
    graph += PB.bytes(
      1,
      PB.node(
        "If", inputs: ["cond"], outputs: ["out"], name: "if0",
        attributes: [
          PB.string(1, "then_branch") + PB.bytes(6, body) + PB.varint(20, 5),
          PB.string(1, "else_branch") + PB.bytes(6, body) + PB.varint(20, 5),
        ]))
    for i in 0..<count { graph += PB.bytes(5, PB.tensor("w\(i)", dims: [2])) }
    let sparseValues = PB.tensor("s", dims: [2])
    graph += PB.bytes(15, PB.bytes(1, sparseValues) + PB.packed(3, [4, 4]))
    graph += PB.bytes(11, PB.string(1, "x0"))
    let (split, apart, onePass) = Self.both(PB.model(graph: graph))
    #expect(apart > 0)
    let file = try split.get()
    #expect(file == (try onePass.get()))
    #expect(file.tensors.count == count + 2)
    #expect(file.tensors.suffix(2).map(\.name) == ["s", "c"])
    #expect(file.tensor("w7")?.uses.map(\.opType) == ["Add", "Identity", "Mul"])
    #expect(file.tensor("w4999")?.uses.map(\.graph) == ["", "if0/then_branch", "if0/else_branch"])
  }

  @Test func smallGraphIsReadInOnePass() throws {
    let (split, apart, onePass) = Self.both(Self.model(count: 3000))
    #expect(apart == 0)
    #expect(try split.get() == onePass.get())
  }

  @Test func findingsKeepTheirOrderAcrossTheSplit() throws {
    // Wrong sizes and names defined twice on both sides of initializer 3000, the first one
    // the other core does not take, and a second definition of a name from the other side.
    let bytes = Self.model(
      count: 5000, rawBytes: [10: 3, 2999: 1, 3000: 5, 4500: 0],
      rename: [20: 10, 2999: 5, 3001: 7, 4000: 3999])
    let (split, apart, onePass) = Self.both(bytes)
    #expect(apart == 3000)
    let file = try split.get()
    #expect(file == (try onePass.get()))
    let codes = file.findings.map(\.code)
    #expect(codes.filter { $0 == "onnx.data-size" }.count == 4)
    #expect(codes.filter { $0 == "onnx.duplicate-name" }.count == 4)
  }

  @Test func errorsMatchOnePass() {
    let cases: [(String, [UInt8], Limits)] = [
      ("unknown data_type on the other core", Self.model(count: 5000, dataType: [1200: 99]), .default),
      ("unknown data_type after the split", Self.model(count: 5000, dataType: [4000: 99]), .default),
      ("undefined data_type on both sides", Self.model(count: 5000, dataType: [100: 0, 4900: 0]), .default),
      ("fewer tensors allowed than the other core lists", Self.model(count: 5000), Self.limits(\.tensors, 1000)),
      ("fewer tensors allowed than all", Self.model(count: 5000), Self.limits(\.tensors, 4000)),
      ("fewer messages than both cores decode", Self.model(count: 5000), Self.limits(\.protobufMessages, 9000)),
      ("fewer messages than all", Self.model(count: 5000), Self.limits(\.protobufMessages, 10_002)),
      ("no more nesting than a graph", Self.model(count: 5000), Self.limits(\.protobufDepth, 2)),
      ("no dimensions allowed", Self.model(count: 5000), Self.limits(\.tensorRank, 0)),
    ]
    for (label, bytes, limits) in cases {
      let (split, _, onePass) = Self.both(bytes, limits: limits)
      #expect(throws: (any Error).self, "\(label)") { try onePass.get() }
      #expect(split.error == onePass.error, "\(label)")
    }
  }

  @Test func mutationsMatchOnePass() {
    // Changed bytes anywhere, and cut runs: whatever the one pass makes of them.
    let original = Self.model(count: 3500)
    var generator = SplitMix(state: 7)
    var split = 0
    for _ in 0..<80 {
      var bytes = original
      if Bool.random(using: &generator) {
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
          bytes[Int.random(in: 0..<bytes.count, using: &generator)] = .random(
            in: 0...255, using: &generator)
        }
      } else {
        let start = Int.random(in: 0..<(bytes.count - 64), using: &generator)
        bytes.removeSubrange(start..<(start + Int.random(in: 1...64, using: &generator)))
      }
      let (read, apart, onePass) = Self.both(bytes)
      if apart > 0 { split += 1 }
      #expect(read.description == onePass.description)
    }
    // Most mutations leave the graph's fields countable, and so split.
    #expect(split > 30)
  }

  static func limits(_ field: WritableKeyPath<Limits, Int>, _ value: Int) -> Limits {
    var limits = Limits.default
    limits[keyPath: field] = value
    return limits
  }
}

/// A generator whose numbers are the same on every run.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension Result where Failure == ReadError {
  var error: ReadError? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

extension Result: @retroactive CustomStringConvertible where Success == WeightFile, Failure == ReadError {
  public var description: String {
    switch self {
    case .success(let file): "\(file)"
    case .failure(let error): "error: \(error)"
    }
  }
}
