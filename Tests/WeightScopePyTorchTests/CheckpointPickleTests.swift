import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePyTorch

/// Bytes of a pickle written as text and raw bytes.
func bytes(_ parts: Any...) -> [UInt8] {
  var out: [UInt8] = []
  for part in parts {
    if let text = part as? String { out += Array(text.utf8) }
    if let byte = part as? UInt8 { out.append(byte) }
    if let raw = part as? [UInt8] { out += raw }
  }
  return out
}

/// `ctorch._utils\n_rebuild_tensor_v2\n` applied to a FloatStorage `key` of `numel` floats.
func rebuild(key: String, shape: [UInt8]) -> [UInt8] {
  var out = bytes(
    "ctorch._utils\n_rebuild_tensor_v2\n(", "(U", UInt8(7), "storagectorch\nFloatStorage\nU",
    UInt8(key.utf8.count), key, "U", UInt8(3), "cpuK", UInt8(4), "tQK", UInt8(0), "(")
  for dim in shape { out += bytes("K", dim) }
  out += bytes("t(")
  var stride: [UInt8] = []
  var running: UInt8 = 1
  for dim in shape.reversed() {
    stride.insert(running, at: 0)
    running &*= dim
  }
  for value in stride { out += bytes("K", value) }
  out += bytes("t", UInt8(0x89), "}tR")
  return out
}

@Suite struct CheckpointPickleTests {
  @Test func dangerousGlobalsAreReportedNotRun() throws {
    // {'w': tensor, 'x': os.system('echo hi')}
    let pickle = bytes(
      UInt8(0x80), UInt8(2), "}(U", UInt8(1), "w", rebuild(key: "0", shape: [2, 2]),
      "U", UInt8(1), "xcposix\nsystem\nU", UInt8(7), "echo hi", UInt8(0x85), "Ru.")
    let contents = try read(pickle, records: ["0": 16])
    #expect(contents.tensors.map(\.name) == ["w"])
    let finding = try #require(contents.findings.first { $0.code == "pickle.dangerous-global" })
    #expect(finding.severity == .error)
    #expect(finding.message.contains("posix.system"))
    #expect(finding.message.contains("runs a shell command"))
    #expect(finding.message.contains("called"))
    let global = Array("cposix".utf8)
    let expectedOffset = pickle.indices.first {
      Array(pickle[$0...].prefix(global.count)) == global
    }
    #expect(finding.offset == expectedOffset)
    #expect(
      contents.findings.contains { $0.code == "pickle.opaque-object" && $0.message.hasPrefix("x:") }
    )
  }

  @Test func unknownGlobalIsAWarning() throws {
    let pickle = bytes("(cmy.module\nThing\n)RU", UInt8(1), "wl.")
    let contents = try read(pickle, records: [:])
    #expect(contents.findings.first?.code == "pickle.unknown-global")
    #expect(contents.findings.first?.severity == .warning)
    #expect(contents.findings.first?.offset == 1)
  }

  @Test func nestedDictsAndListsNameTensors() throws {
    // {'model': {'enc': [T0, T1]}, 'epoch': 3}
    let pickle = bytes(
      "}(U", UInt8(5), "model}U", UInt8(3), "enc(", rebuild(key: "0", shape: [3]),
      rebuild(key: "1", shape: [2, 1]),
      "lsU", UInt8(5), "epochK", UInt8(3), "u.")
    let contents = try read(pickle, records: ["0": 12, "1": 8])
    #expect(contents.tensors.map(\.name) == ["model.enc.0", "model.enc.1"])
    #expect(contents.tensors.map(\.shape) == [[3], [2, 1]])
    #expect(contents.facts == [FileFact("epoch", "3")])
  }

  /// A list of 10 references to a list of 10 references ... 40 levels, holding one tensor:
  /// 10^40 paths, a walk that would not end unless each shared list is walked once (the time
  /// limit turns that into a failure).
  @Test(.timeLimit(.minutes(1))) func sharedContainersAreWalkedOnce() throws {
    var pickle = bytes(
      UInt8(0x80), UInt8(2), "(", rebuild(key: "0", shape: [1]), "lr", [0, 0, 0, 0] as [UInt8])
    for level in 0..<40 {
      pickle += bytes("(")
      for _ in 0..<10 { pickle += bytes("j", [UInt8(level), 0, 0, 0]) }
      pickle += bytes("lr", [UInt8(level + 1), 0, 0, 0])
    }
    pickle += bytes(".")
    let contents = try read(pickle, records: ["0": 4])
    #expect(contents.tensors.count == 1)
    #expect(contents.tensors.first?.name == String(repeating: "0.", count: 40) + "0")
  }

  @Test func depthIsBoundedByObjectDepth() {
    var limits = Limits()
    limits.objectDepth = 20
    let pickle = bytes(String(repeating: "(", count: 30), String(repeating: "l", count: 30), ".")
    let failure = error { () throws(ReadError) in _ = try read(pickle, records: [:], limits: limits)
    }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.context == "data.pkl")
    #expect(failure?.message.contains("Limits.objectDepth") == true)
  }

  @Test func malformedRebuildCallNamesTheTensor() {
    // _rebuild_tensor_v2 with a storage that is not a persistent id.
    let pickle = bytes(
      "}U", UInt8(1), "wctorch._utils\n_rebuild_tensor_v2\n(NK", UInt8(0), ")))", UInt8(0x89),
      "NtRs.")
    let failure = error { () throws(ReadError) in _ = try read(pickle, records: [:]) }
    #expect(failure?.kind == .malformed)
    #expect(failure?.context == "data.pkl: tensor w")
    #expect(failure?.message.contains("persistent id") == true)
  }
}

@Suite struct CheckpointRebuildTests {
  @Test func deeplyNestedParameterCallsAreBounded() {
    var limits = Limits()
    limits.objectDepth = 50
    // _rebuild_parameter(_rebuild_parameter(... None ..., True, {}), True, {}), 200 levels.
    var pickle = bytes("ctorch._utils\n_rebuild_parameter\nq", UInt8(0), "0")
    var body: [UInt8] = bytes("N")
    for _ in 0..<200 {
      body = bytes("h", UInt8(0)) + body + bytes(UInt8(0x88), "}", UInt8(0x87), "R")
    }
    pickle += body + bytes(".")
    let failure = error { () throws(ReadError) in _ = try read(pickle, records: [:], limits: limits)
    }
    #expect(failure?.kind == .limitExceeded)
    #expect(failure?.message.contains("Limits.objectDepth") == true)
  }

  @Test func uninterpretedRebuildIsAWarning() throws {
    let pickle = bytes(
      "}U", UInt8(1), "sctorch._utils\n_rebuild_sparse_tensor\nNN", UInt8(0x86), "Rs.")
    let contents = try read(pickle, records: [:])
    #expect(contents.tensors.isEmpty)
    #expect(contents.findings.map(\.code) == ["pickle.uninterpreted-tensor"])
    #expect(contents.findings.first?.severity == .warning)
  }
}
