import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopeONNX

/// Byte-literal tests of the protobuf wire rules, each checking the error's kind, offset and path.
@Suite struct WireFormatTests {
  // Offsets in a model made by `PB.model(graph:)`: [0x08 0x08] ir_version, then 0x3a LEN graph.
  /// Offset of the graph message's first byte (graph length below 128).
  static let graphStart = 4

  @Test func varintOfTenBytesWithOneBitInTheLastReads() throws {
    var bytes = FileBytes(copying: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
      .reader()
    #expect(try Varint.read(&bytes) == UInt64.max)
    #expect(bytes.isAtEnd)
  }

  @Test func tenthVarintByteWithMoreThanOneBitOverflows() {
    let bytes: [UInt8] = [0x08] + [UInt8](repeating: 0xff, count: 9) + [0x02]
    let error = readError(bytes)
    #expect(error?.kind == .overflow)
    #expect(error?.offset == 1)
    #expect(error?.context == "ModelProto.ir_version")
  }

  @Test func varintLongerThanTenBytesIsRejectedWithItsFieldPath() throws {
    // graph { initializer { dims: <11-byte varint> } }
    let dims: [UInt8] = [0x08] + [UInt8](repeating: 0x80, count: 10) + [0x01]
    let initializer = PB.bytes(5, dims)
    let bytes = PB.model(graph: initializer)
    let error = try #require(readError(bytes))
    #expect(error.kind == .malformed)
    // graph at 4, initializer key+length 2 bytes, dims key 1 byte.
    #expect(error.offset == Self.graphStart + 2 + 1)
    #expect(error.context == "ModelProto.graph.initializer[0].dims")
    #expect(error.message == "varint longer than 10 bytes")
    #expect(error.description.hasPrefix("ModelProto.graph.initializer[0].dims at 0x7: "))
  }

  @Test func errorPathCountsRepeatedElements() throws {
    let bad = PB.bytes(5, PB.key(1, 0) + [0x80])  // dims varint cut off by its message's end
    let graph =
      PB.bytes(5, PB.tensor("a", dims: [1])) + PB.bytes(5, PB.tensor("b", dims: [1])) + bad
    let error = try #require(readError(PB.model(graph: graph)))
    #expect(error.context == "ModelProto.graph.initializer[2].dims")
    #expect(error.kind == .malformed)
    #expect(error.message.contains("end of the enclosing message"))
  }

  @Test func lengthPastTheEnclosingMessageIsMalformed() throws {
    // initializer { name: length 50, but the initializer is 4 bytes long }
    let initializer: [UInt8] = PB.key(8, 2) + [50, 0x61, 0x62]
    let bytes = PB.model(graph: PB.bytes(5, initializer) + PB.string(2, "g"))
    let error = try #require(readError(bytes))
    #expect(error.kind == .malformed)
    #expect(error.offset == Self.graphStart + 2 + 1)  // the length varint
    #expect(error.context == "ModelProto.graph.initializer[0].name")
    #expect(error.message.contains("length 50 runs past the end of the enclosing message"))
  }

  @Test func lengthPastTheEndOfTheFileIsTruncated() throws {
    let bytes: [UInt8] = PB.varint(1, 8) + PB.key(7, 2) + [100] + PB.string(2, "g")
    let error = try #require(readError(bytes))
    #expect(error.kind == .truncated)
    #expect(error.offset == 3)
    #expect(error.context == "ModelProto.graph")
  }

  @Test func packedAndUnpackedDimsReadTheSame() throws {
    func model(_ dims: [UInt8]) -> [UInt8] {
      PB.model(
        graph: PB.bytes(
          5,
          dims + PB.varint(2, 1) + PB.string(8, "w")
            + PB.bytes(9, [UInt8](repeating: 0, count: 2 * 3 * 300 * 4))))
    }
    let unpacked = try readModel(model(PB.varint(1, 2) + PB.varint(1, 3) + PB.varint(1, 300)))
    let packed = try readModel(model(PB.packed(1, [2, 3, 300])))
    let mixed = try readModel(model(PB.packed(1, [2]) + PB.varint(1, 3) + PB.packed(1, [300])))
    for file in [unpacked, packed, mixed] {
      #expect(file.tensors.map(\.shape) == [[2, 3, 300]])
      #expect(file.tensors.first?.elements == 1800)
      #expect(file.findings.isEmpty)
    }
  }

  @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
    let unknown: [UInt8] =
      PB.varint(99, 7) + PB.key(98, 1) + [UInt8](repeating: 1, count: 8)
      + PB.bytes(97, [1, 2, 3]) + PB.key(96, 5) + [1, 2, 3, 4]
    let tensor = unknown + PB.tensor("w", dims: [2]) + unknown
    let bytes = unknown + PB.model(graph: unknown + PB.bytes(5, tensor) + unknown) + unknown
    let file = try readModel(bytes)
    #expect(file.tensors.map(\.name) == ["w"])
    #expect(file.tensors.first?.shape == [2])
  }

  @Test(arguments: [
    (UInt8(3), ReadError.Kind.unsupported), (4, .unsupported), (6, .malformed), (7, .malformed),
  ])
  func wireTypesThreeFourSixAndSevenAreRejected(wireType: UInt8, kind: ReadError.Kind) throws {
    let graph = PB.string(2, "g") + PB.key(20, wireType) + [0, 0, 0, 0]
    let error = try #require(readError(PB.model(graph: graph)))
    #expect(error.kind == kind)
    #expect(error.offset == Self.graphStart + 3)
    #expect(error.context == "ModelProto.graph")
  }

  @Test func fieldNumberZeroIsRejected() throws {
    let tensor: [UInt8] = PB.string(8, "w") + [0x00, 0x05]
    let error = try #require(readError(PB.model(graph: PB.bytes(5, tensor))))
    #expect(error.kind == .malformed)
    #expect(error.offset == Self.graphStart + 2 + 3)
    #expect(error.context == "ModelProto.graph.initializer[0]")
    #expect(error.message == "field number 0 is not allowed")
  }

  @Test func knownFieldWithTheWrongWireTypeIsRejected() throws {
    // name (a string) sent as a varint.
    let error = try #require(readError(PB.model(graph: PB.bytes(5, PB.varint(8, 1)))))
    #expect(error.kind == .malformed)
    #expect(error.offset == Self.graphStart + 2)
    #expect(error.context == "ModelProto.graph.initializer[0].name")
  }

  @Test func nestingDeeperThanTheLimitIsRejected() throws {
    // ModelProto(1) > graph(2) > node(3) > attribute(4) > g(5) > node(6) ...
    var graph: [UInt8] = PB.string(2, "leaf")
    for level in 0..<60 {
      let attribute = PB.string(1, "body") + PB.bytes(6, graph) + PB.varint(20, 5)
      graph = PB.bytes(
        1, PB.node("Loop", inputs: [], outputs: ["o\(level)"], attributes: [attribute]))
    }
    let bytes = PB.model(graph: graph)
    let error = try #require(readError(bytes))  // 2 + 3 * 60 messages deep > 100
    #expect(error.kind == .limitExceeded)
    #expect(
      error.context.hasPrefix("ModelProto.graph.node[0].attribute[0].g.node[0].attribute[0].g"))
    #expect(error.message.contains("Limits.protobufDepth"))
    // The path names the 101st nested message, one component per message.
    let depth = error.context.split(separator: ".").count
    #expect(depth == 101)

    var deeper = Limits()
    deeper.protobufDepth = 200
    let file = try readModel(bytes, limits: deeper)
    #expect(file.facts.contains(FileFact("operators", "Loop ×60")))
  }

  @Test func depthLimitErrorPointsAtTheMessageThatGoesTooDeep() throws {
    var limits = Limits()
    limits.protobufDepth = 2  // ModelProto and its graph, not the graph's initializer
    let bytes = PB.model(graph: PB.bytes(5, PB.tensor("w", dims: [1])))
    let error = try #require(readError(bytes, limits: limits))
    #expect(error.kind == .limitExceeded)
    #expect(error.offset == Self.graphStart + 2)
    #expect(error.context == "ModelProto.graph.initializer[0]")
  }

  @Test func messageCountLimit() throws {
    var limits = Limits()
    limits.protobufMessages = 4  // model, graph, two initializers; the opset is the fifth
    let bytes = PB.model(
      graph: PB.bytes(5, PB.tensor("a", dims: [1])) + PB.bytes(5, PB.tensor("b", dims: [1])))
    let error = try #require(readError(bytes, limits: limits))
    #expect(error.kind == .limitExceeded)
    #expect(error.context == "ModelProto.opset_import[0]")
    #expect(error.offset == bytes.count - 2)
    limits.protobufMessages = 5
    #expect(try readModel(bytes, limits: limits).tensors.count == 2)
  }

  @Test func fieldKeyPast32BitsIsRejected() throws {
    let bytes: [UInt8] = PB.varint(1, 8) + PB.varint(UInt64(1) << 35)
    let error = try #require(readError(bytes))
    #expect(error.kind == .malformed)
    #expect(error.offset == 2)
    #expect(error.context == "ModelProto")
  }

  @Test func rankLimit() throws {
    var limits = Limits()
    limits.tensorRank = 4
    let bytes = PB.model(graph: PB.bytes(5, PB.packed(1, [1, 1, 1, 1, 1]) + PB.varint(2, 1)))
    let error = try #require(readError(bytes, limits: limits))
    #expect(error.kind == .limitExceeded)
    #expect(error.context == "ModelProto.graph.initializer[0].dims")
    #expect(error.offset == Self.graphStart + 2 + 1)  // the field's value, after its key
  }

  @Test func packedFixedWidthMustTileItsPayload() throws {
    let tensor =
      PB.varint(1, 2) + PB.varint(2, 1) + PB.string(8, "f") + PB.bytes(4, [0, 0, 0, 0, 0, 0, 0])
    let error = try #require(readError(PB.model(graph: PB.bytes(5, tensor))))
    #expect(error.kind == .malformed)
    #expect(error.context == "ModelProto.graph.initializer[0].float_data")
    #expect(error.message.contains("not a multiple of 4"))
  }

  @Test func modelWithoutAGraphIsRejected() throws {
    let error = try #require(readError(PB.varint(1, 8)))
    #expect(error.kind == .malformed)
    #expect(error.context == "ModelProto")
    #expect(error.offset == 2)
  }

  @Test func countsVarintsWithoutDecodingThem() throws {
    let payload: [UInt8] = [0x01, 0x80, 0x01, 0xff, 0xff, 0x03, 0x00]
    #expect(try Varint.count(in: FileBytes(copying: payload).reader()) == 4)
    let cut: [UInt8] = [0x01, 0x80]
    let error = try #require(throws: ReadError.self) {
      try Varint.count(in: FileBytes(copying: cut).reader())
    }
    #expect(error.kind == .malformed)
    #expect(error.offset == 1)
  }
}
