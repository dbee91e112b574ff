import Foundation
import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePickle
@testable import WeightScopePyTorch

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// What `tools/make_pickle_fixtures.py` recorded from the saved objects and the archive.
struct Expected: Decodable {
  struct Tensor: Decodable {
    var name: String
    var shape: [Int]
    var stride: [Int]
    var offset: Int
    var dtype: String
    var key: String
    var parameter: Bool?
    var requires_grad: Bool?
    var section: String
  }

  var tensors: [Tensor]
  var records: [String: Int]
  var facts: [String: String]
}

func loadFixture(_ name: String) throws -> (pickle: [UInt8], expected: Expected) {
  let pickle = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("\(name).data.pkl")))
  let json = try Data(contentsOf: fixtures.appendingPathComponent("\(name).expected.json"))
  return (pickle, try JSONDecoder().decode(Expected.self, from: json))
}

func read(_ pickle: [UInt8], records: [String: Int], limits: Limits = .default) throws(ReadError)
  -> CheckpointContents
{
  try CheckpointPickle.read(
    FileBytes(copying: pickle).reader(),
    storages: { key in records[key].map { StorageRecord(key: key, byteCount: $0, fileOffset: 1000) }
    },
    limits: limits)
}

@Suite struct CheckpointFixtureTests {
  /// The pickle document is the largest thing a listing holds: it must be gone by the time
  /// the tensors it named are checked against their records, so that their list can reuse its
  /// memory instead of touching fresh pages.
  @Test func documentIsFreedBeforeTensorsAreChecked() throws {
    let (pickle, expected) = try loadFixture("nested")
    var document: PickleDocument? = try PickleMachine.run(FileBytes(copying: pickle).reader())
    weak let store = document?.store
    #expect(store != nil)
    guard let taken = document.take() else {
      Issue.record("the pickle did not run")
      return
    }
    var storeAlive: [Bool] = []
    let contents = try CheckpointPickle.read(
      run: consume taken,
      storages: { key in
        storeAlive.append(store != nil)
        return expected.records[key].map { StorageRecord(key: key, byteCount: $0) }
      }, limits: .default)
    #expect(contents.tensors.map(\.name) == expected.tensors.map(\.name))
    #expect(storeAlive.count == expected.tensors.count)
    #expect(!storeAlive.contains(true))
  }

  @Test(arguments: ["nested", "dtypes", "tied", "proto4", "parameter", "training", "module"])
  func tensorsMatchWhatTorchSaved(name: String) throws {
    let (pickle, expected) = try loadFixture(name)
    let contents = try read(pickle, records: expected.records)
    #expect(contents.tensors.map(\.name) == expected.tensors.map(\.name))
    var firstOnKey: [String: String] = [:]
    for (tensor, want) in zip(contents.tensors, expected.tensors) {
      #expect(tensor.shape == want.shape, "\(want.name)")
      #expect(tensor.dtype.rawValue == want.dtype, "\(want.name)")
      #expect(tensor.storage?.key == want.key, "\(want.name)")
      #expect(tensor.storage?.stride == want.stride, "\(want.name)")
      #expect(tensor.storage?.offsetElements == want.offset, "\(want.name)")
      #expect(tensor.storage?.recordBytes == expected.records[want.key], "\(want.name)")
      let elementSize = (tensor.dtype.bitWidth ?? 0) / 8
      #expect(tensor.storage?.fileOffset == 1000 + want.offset * elementSize, "\(want.name)")
      #expect(tensor.elements == want.shape.reduce(1, *), "\(want.name)")
      #expect(tensor.bytes == tensor.elements * elementSize, "\(want.name)")
      #expect(tensor.declaredParameter == want.parameter, "\(want.name)")
      #expect(tensor.declaredTrainable == want.requires_grad, "\(want.name)")
      #expect(tensor.section == want.section, "\(want.name)")
      #expect(tensor.sharedWith == firstOnKey[want.key], "\(want.name)")
      if firstOnKey[want.key] == nil { firstOnKey[want.key] = want.name }
    }
    // Scalar metadata as saved; `sections` and `modules` describe the structure found.
    let scalars = contents.facts.filter { $0.key != "sections" && $0.key != "modules" }
    #expect(Dictionary(uniqueKeysWithValues: scalars.map { ($0.key, $0.value) }) == expected.facts)
    if name == "module" {
      #expect(contents.facts.contains { $0.key == "modules" })
      #expect(contents.modules.first?.className == "torch.nn.modules.container.Sequential")
    }
    if name == "module" {
      // Module classes are outside the allowlist: named, never an error.
      #expect(
        contents.findings.contains {
          $0.code == "pickle.unknown-global"
            && $0.message.contains("torch.nn.modules.linear.Linear")
        })
      #expect(!contents.findings.contains { $0.severity == .error })
    } else {
      #expect(contents.findings.filter { $0.severity != .info } == [])
    }
  }

  @Test func protocol4FixtureUsesFrames() throws {
    let (pickle, _) = try loadFixture("proto4")
    #expect(pickle.prefix(3) == [0x80, 0x04, 0x95])
  }

  @Test func missingStorageRecordIsAnError() throws {
    let (pickle, expected) = try loadFixture("nested")
    var records = expected.records
    records["3"] = nil
    let failure = error { () throws(ReadError) in _ = try read(pickle, records: records) }
    let name = expected.tensors.first { $0.key == "3" }?.name ?? "?"
    #expect(failure?.kind == .malformed)
    #expect(failure?.context == "data.pkl: tensor \(name)")
    #expect(failure?.message == "storage record data/3 is missing")
    #expect(failure?.offset != nil)
  }

  @Test func tensorLargerThanItsRecordIsAnError() throws {
    let (pickle, expected) = try loadFixture("tied")
    var records = expected.records
    records["0"] = 44  // 11 floats; the 3x4 tensors need 48 bytes.
    let failure = error { () throws(ReadError) in _ = try read(pickle, records: records) }
    #expect(failure?.kind == .malformed)
    #expect(failure?.context == "data.pkl: tensor embed.weight")
    #expect(failure?.message.contains("needs 48 bytes of storage data/0") == true)
  }

  @Test func viewsAreCheckedByTheirExtent() throws {
    // `column` is base[:, 2]: offset 2, stride 4, 3 elements, so it ends at element 11.
    let (pickle, expected) = try loadFixture("tied")
    let contents = try read(pickle, records: expected.records)
    let column = try #require(contents.tensors.first { $0.name == "column" })
    #expect(column.storage?.offsetElements == 2)
    #expect(column.storage?.stride == [4])
    #expect(column.sharedWith == "embed.weight")
  }

  @Test func everyTruncatedPrefixThrows() throws {
    let (pickle, expected) = try loadFixture("nested")
    for length in 0..<pickle.count {
      let failure = error { () throws(ReadError) in
        _ = try read(Array(pickle[..<length]), records: expected.records)
      }
      #expect(failure != nil, "prefix of \(length) bytes")
      #expect(failure?.context.hasPrefix("data.pkl") == true)
    }
  }
}

func error(_ body: () throws(ReadError) -> Void) -> ReadError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}
