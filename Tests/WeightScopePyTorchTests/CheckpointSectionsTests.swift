import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePyTorch

/// `{key: {name: tensor, ...}, ...}` plus `epoch: 7`, every tensor a 4-element float storage.
private func checkpoint(_ collections: [(String, [String])]) -> [UInt8] {
  var writer = PickleWriter()
  writer.op("}")
  var storage = 0
  for (key, names) in collections {
    writer.string(key)
    writer.op("}")
    for name in names {
      writer.string(name)
      writer.tensor(key: String(storage), numel: 4, shape: [4], stride: [1])
      writer.op("s")
      storage += 1
    }
    writer.op("s")
  }
  writer.string("epoch")
  writer.int(7)
  writer.op("s")
  return writer.stop()
}

private func sections(_ collections: [(String, [String])]) throws -> CheckpointContents {
  try CheckpointPickle.read(
    FileBytes(copying: checkpoint(collections)).reader(),
    storages: { StorageRecord(key: $0, byteCount: 16) }, limits: .default)
}

@Suite struct CheckpointSectionsTests {
  @Test func preferredKeyIsTheModelOthersStayApart() throws {
    let contents = try sections([
      ("ema", ["fc.weight", "fc.bias"]), ("model", ["fc.weight", "fc.bias"]),
      ("optimizer", ["state.0.exp_avg", "state.0.exp_avg_sq"]),
    ])
    #expect(contents.tensors.map(\.section) == ["ema", "ema", "", "", "optimizer", "optimizer"])
    // Names stay as the file spells them.
    #expect(contents.tensors.map(\.name).first == "ema.fc.weight")
    let fact = try #require(contents.facts.first { $0.key == "sections" })
    #expect(fact.value.contains("model (2 tensors, 8 elements, model weights)"))
    #expect(fact.value.contains("ema (2 tensors, 8 elements, not counted)"))
    #expect(fact.value.contains("optimizer (2 tensors, 8 elements, optimizer state, Adam-style"))
    #expect(contents.facts.contains(FileFact("epoch", "7")))
  }

  @Test func largestCollectionWinsWithoutAPreferredKey() throws {
    let contents = try sections([
      ("teacher", ["a.weight"]), ("student_weights", ["a.weight", "b.weight"]),
      ("optim_state", ["x"]),
    ])
    #expect(contents.tensors.map(\.section) == ["teacher", "", "", "optimizer"])
  }

  @Test func plainStateDictHasOneSection() throws {
    var writer = PickleWriter()
    writer.op("}")
    for (i, name) in ["fc.weight", "fc.bias"].enumerated() {
      writer.string(name)
      writer.tensor(key: String(i), numel: 4, shape: [4], stride: [1])
      writer.op("s")
    }
    let contents = try CheckpointPickle.read(
      FileBytes(copying: writer.stop()).reader(),
      storages: { StorageRecord(key: $0, byteCount: 16) }, limits: .default)
    #expect(contents.tensors.map(\.section) == ["", ""])
    #expect(!contents.facts.contains { $0.key == "sections" })
  }
}
