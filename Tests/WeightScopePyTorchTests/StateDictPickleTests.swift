import Foundation
import Testing
import WeightScopeCore
import WeightScopeModel
import WeightScopeZip

@testable import WeightScopePickle
@testable import WeightScopePyTorch

/// A state dict read in one pass must list exactly what the machine and the walk list, error
/// for error; whatever it does not follow falls back to them.
@Suite struct StateDictPickleTests {
  typealias Outcome = Result<CheckpointContents, ReadError>

  /// The listing as a checkpoint gets it: one pass where it can, else the machine.
  func listed(_ pickle: [UInt8], records: [String: Int], limits: Limits = .default) -> Outcome {
    Result { () throws(ReadError) in try read(pickle, records: records, limits: limits) }
  }

  /// The machine and the walk alone, with the errors' `data.pkl` context as a listing gives it.
  func machineOnly(_ pickle: [UInt8], records: [String: Int], limits: Limits = .default)
    -> Outcome
  {
    Result { () throws(ReadError) in
      let document: PickleDocument
      do throws(ReadError) {
        document = try PickleMachine.run(FileBytes(copying: pickle).reader(), limits: limits)
      } catch {
        throw error.within("data.pkl")
      }
      return try CheckpointPickle.read(
        run: document,
        storages: { key in
          records[key].map { StorageRecord(key: key, byteCount: $0, fileOffset: 1000) }
        }, limits: limits)
    }
  }

  func onePass(_ pickle: [UInt8], limits: Limits = .default) -> Bool {
    StateDictPickle.read(FileBytes(copying: pickle).reader(), limits: limits) != nil
  }

  /// Checks that both routes agree, and returns whether the one pass read the pickle.
  @discardableResult
  func agree(
    _ pickle: [UInt8], records: [String: Int], limits: Limits = .default,
    sourceLocation: SourceLocation = #_sourceLocation
  ) -> Bool {
    let fast = listed(pickle, records: records, limits: limits)
    let slow = machineOnly(pickle, records: records, limits: limits)
    #expect(fast == slow, sourceLocation: sourceLocation)
    return onePass(pickle, limits: limits)
  }

  func records(_ count: Int) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: (0..<count).map { ("\($0)", 16) })
  }

  /// `{name: tensor}` for each name, each tensor on its own 2x2 float storage.
  func plainDict(_ names: [String]) -> [UInt8] {
    var writer = PickleWriter()
    writer.op("}")
    writer.op("(")
    for (i, name) in names.enumerated() {
      writer.string(name)
      writer.tensor(key: "\(i)", numel: 4, shape: [2, 2], stride: [2, 1])
    }
    writer.op("u")
    return writer.stop()
  }

  /// What `torch.save(model.state_dict())` writes: an `OrderedDict` whose items come from
  /// SETITEMS, memoized as the pickler memoizes, a tensor that names an earlier one again,
  /// and a `_metadata` state set by BUILD.
  func orderedStateDict() -> [UInt8] {
    var writer = PickleWriter()
    writer.global("collections", "OrderedDict")
    writer.bytes += [UInt8(ascii: "q"), 0]  // BINPUT 0
    writer.op(")")
    writer.op("R")
    writer.bytes += [UInt8(ascii: "q"), 1]  // BINPUT 1
    writer.op("(")
    writer.string("fc.weight")
    writer.tensor(key: "0", numel: 4, shape: [2, 2], stride: [2, 1])
    writer.bytes += [UInt8(ascii: "q"), 2]  // BINPUT 2: the tensor
    writer.string("fc.bias")
    writer.tensor(key: "1", numel: 2, shape: [2], stride: [1])
    writer.string("head.weight")
    writer.bytes += [UInt8(ascii: "h"), 2]  // BINGET 2: tied to fc.weight
    writer.op("u")
    // BUILD {'_metadata': OrderedDict(('', {'version': 1}), ('fc', {'version': 1}))}
    writer.op("}")
    writer.string("_metadata")
    writer.bytes += [UInt8(ascii: "h"), 0]  // BINGET 0: OrderedDict
    writer.op(")")
    writer.op("R")
    writer.op("(")
    for module in ["", "fc"] {
      writer.string(module)
      writer.op("}")
      writer.string("version")
      writer.int(1)
      writer.op("s")
    }
    writer.op("u")
    writer.op("s")
    writer.op("b")
    return writer.stop()
  }

  @Test func orderedDictWithMetadataIsReadInOnePass() throws {
    let pickle = orderedStateDict()
    #expect(agree(pickle, records: ["0": 16, "1": 8]))
    let contents = try read(pickle, records: ["0": 16, "1": 8])
    #expect(contents.tensors.map(\.name) == ["fc.weight", "fc.bias", "head.weight"])
    #expect(contents.tensors[2].sharedWith == "fc.weight")
    #expect(contents.tensors.map(\.shape) == [[2, 2], [2], [2, 2]])
  }

  @Test func plainDictIsReadInOnePass() {
    #expect(agree(plainDict(["a.weight", "a.bias", ""]), records: records(3)))
  }

  /// Each of these leaves the pickle to the machine, which lists it as before.
  @Test func whatOnePassDoesNotFollowFallsBack() {
    // A repeated key: Python keeps the first place and the last value.
    #expect(!agree(plainDict(["a", "b", "a"]), records: records(3)))
    // A key that is not ASCII text.
    #expect(!agree(plainDict(["caf\u{e9}", "b"]), records: records(2)))
    // A legacy view into another storage.
    var view = PickleWriter()
    view.op("}")
    view.string("v")
    view.tensor(key: "0", numel: 4, shape: [2], stride: [1], view: ("0", 2, 2))
    view.op("s")
    #expect(!agree(view.stop(), records: ["0": 16]))
    // A scalar beside the tensors.
    var scalar = PickleWriter()
    scalar.op("}")
    scalar.op("(")
    scalar.string("w")
    scalar.tensor(key: "0", numel: 4, shape: [4], stride: [1])
    scalar.string("epoch")
    scalar.int(3)
    scalar.op("u")
    #expect(!agree(scalar.stop(), records: ["0": 16]))
    // A nested dict.
    var nested = PickleWriter()
    nested.op("}")
    nested.string("model")
    nested.op("}")
    nested.string("w")
    nested.tensor(key: "0", numel: 4, shape: [4], stride: [1])
    nested.op("s")
    nested.op("s")
    #expect(!agree(nested.stop(), records: ["0": 16]))
    // A pickle cut short, and one with bytes after STOP.
    let whole = plainDict(["a", "b"])
    #expect(!agree(Array(whole.dropLast()), records: records(2)))
    #expect(agree(whole + [0x2e, 0x00], records: records(2)))
  }

  /// Errors found after the pass (a missing or short record) are the machine's errors.
  @Test func recordErrorsAreTheMachines() {
    #expect(agree(plainDict(["a", "b"]), records: ["0": 16]))
    #expect(agree(plainDict(["a", "b"]), records: ["0": 16, "1": 15]))
  }

  /// A limit the pass would reach is the machine's to report.
  @Test func limitsFallBack() {
    let pickle = orderedStateDict()
    func with(_ change: (inout Limits) -> Void) -> Limits {
      var limits = Limits.default
      change(&limits)
      return limits
    }
    for limits in [
      with { $0.tensors = 2 }, with { $0.pickleOpcodes = 40 }, with { $0.pickleMemoEntries = 0 },
      with { $0.pickleStackDepth = 4 }, with { $0.pickleMarkDepth = 1 },
      with { $0.pickleStringBytes = 6 }, with { $0.objectDepth = 0 }, with { $0.tensorRank = 1 },
    ] {
      #expect(!agree(pickle, records: ["0": 16, "1": 8], limits: limits), "\(limits)")
    }
  }

  /// Every single-byte change to a state dict pickle: both routes give the same listing or
  /// the same error.
  @Test(arguments: ["written", "tied", "proto4"])
  func everyMutationAgrees(source: String) throws {
    let (pickle, records): ([UInt8], [String: Int])
    if source == "written" {
      (pickle, records) = (orderedStateDict(), ["0": 16, "1": 8])
    } else {
      let fixture = try loadFixture(source)
      (pickle, records) = (fixture.pickle, fixture.expected.records)
    }
    var onePassCount = 0
    for position in pickle.indices {
      for change: (UInt8) -> UInt8 in [{ $0 ^ 0x01 }, { $0 ^ 0x80 }, { _ in 0 }, { _ in 0xff }] {
        var mutated = pickle
        mutated[position] = change(pickle[position])
        guard mutated != pickle else { continue }
        let fast = listed(mutated, records: records)
        let slow = machineOnly(mutated, records: records)
        #expect(fast == slow, "byte \(position): \(pickle[position]) -> \(mutated[position])")
        if onePass(mutated) { onePassCount += 1 }
      }
    }
    // Changed names, keys and sizes are still state dicts.
    #expect(onePassCount > pickle.count / 4)
  }

  /// The pickle in two parts at once (at any size here), and whether the parts were joined;
  /// then in one pass.
  func inParts(_ pickle: [UInt8], limits: Limits = .default) -> (
    parts: StateDictPickle.Walked?, joined: Bool, onePass: StateDictPickle.Walked?
  ) {
    let file = FileBytes(copying: pickle)
    let bytes = UnsafeRawBufferPointer(rebasing: file.buffer[0..<pickle.count])
    let parts = StateDictPickle.readInParts(bytes, base: 0, limits: limits, worthwhile: 0)
    let onePass = StateDictPickle.readInParts(bytes, base: 0, limits: limits, worthwhile: .max)
    return withExtendedLifetime(file) { (parts.walked, parts.joined, onePass.walked) }
  }

  /// Three batches of items, the second part recalling the first's rebuild function,
  /// `storage`, storage classes and storage keys: read in two parts, as one pass reads it,
  /// and as the machine lists it.
  @Test func twoPartsReadWhatOnePassReads() throws {
    let (pickle, expected) = try loadFixture("many")
    let (parts, joined, onePass) = inParts(pickle)
    #expect(joined)
    #expect(parts != nil)
    #expect(parts == onePass)
    #expect(agree(pickle, records: expected.records))
    let listed = try CheckpointPickle.read(try #require(parts), storages: { key in
      expected.records[key].map { StorageRecord(key: key, byteCount: $0, fileOffset: 1000) }
    })
    #expect(listed == (try machineOnly(pickle, records: expected.records).get()))
    #expect(listed.tensors.map(\.name) == expected.tensors.map(\.name))
    #expect(listed.tensors.first { $0.name == "tail.row" }?.sharedWith == "0.weight")
    #expect(listed.tensors.first { $0.name == "1100.weight" }?.dtype == .float16)
  }

  /// Limits that only the two parts together pass are the one pass's to report.
  @Test func twoPartsKeepTheLimitsTogether() throws {
    let (pickle, expected) = try loadFixture("many")
    let count = expected.tensors.count
    for change: (inout Limits) -> Void in [
      { $0.tensors = count - 1 }, { $0.tensors = count },
      { $0.pickleMemoEntries = 2 * count }, { $0.pickleOpcodes = 20 * count },
    ] {
      var limits = Limits.default
      change(&limits)
      let (parts, _, onePass) = inParts(pickle, limits: limits)
      #expect(parts == onePass, "\(limits)")
    }
    var tight = Limits.default
    tight.tensors = count - 1
    #expect(inParts(pickle, limits: tight).parts == nil)
  }

  /// Changed bytes around the split, in the first tensor (whose memoized values the second
  /// part recalls) and anywhere: the two parts read what one pass reads, or nothing.
  @Test func twoPartsAgreeWithOnePassOnMutations() throws {
    let (pickle, _) = try loadFixture("many")
    let file = FileBytes(copying: pickle)
    let split = try #require(
      StateDictPickle.splitPoint(UnsafeRawBufferPointer(rebasing: file.buffer[0..<pickle.count])))
    var state: UInt64 = 7
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    // Every byte of the first tensors, then bytes around the split and anywhere.
    var positions = Array(0..<200)
    positions += (0..<100).map { _ in split - 300 + next(600) }
    positions += (0..<100).map { _ in next(pickle.count) }
    var joinedCount = 0
    for position in positions {
      var mutated = pickle
      mutated[position] ^= UInt8(1 + next(255))
      let (parts, joined, onePass) = inParts(mutated)
      #expect(parts == onePass, "byte \(position)")
      if joined { joinedCount += 1 }
    }
    #expect(joinedCount > 30)
  }

  @Test(arguments: [
    "nested", "dtypes", "tied", "proto4", "parameter", "training", "module", "many",
  ])
  func fixturesAgree(name: String) throws {
    let (pickle, expected) = try loadFixture(name)
    let read = agree(pickle, records: expected.records)
    // `nested` is a ResNet's state dict; `dtypes` has a float8 tensor, which
    // `_rebuild_tensor_v3` makes and only the machine reads.
    let stateDicts: Set = ["nested", "tied", "proto4", "many"]
    #expect(read == stateDicts.contains(name))
  }

  /// Every zip checkpoint in `TestModels`, with its own records.
  @Test func testModelsAgree() throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../TestModels").standardized
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    var read: [String] = []
    var checked = 0
    for name in names where name.hasSuffix(".pt") || name.hasSuffix(".pth") {
      let bytes = try FileBytes(path: folder.appendingPathComponent(name).path)
      guard ZipArchive.looksLikeZip(bytes.reader()) else { continue }
      let zip = try ZipArchive(bytes.reader())
      guard let entry = zip.entry(relative: "data.pkl") else { continue }
      let pickleReader = try zip.contents(of: entry)
      let pickle = Array(
        try pickleReader.peekBytes(at: pickleReader.position, count: pickleReader.remaining))
      let data = zip.folder(zip.topFolder + "/data/")
      var records: [String: Int] = [:]
      for index in zip.entries.indices {
        let entryName = zip.name(of: zip.entries[index])
        guard entryName.hasPrefix(zip.topFolder + "/data/") else { continue }
        let key = String(entryName.dropFirst(zip.topFolder.count + 6))
        if data.entry(named: key) != nil { records[key] = zip.entries[index].uncompressedSize }
      }
      checked += 1
      if agree(pickle, records: records) { read.append(name) }
    }
    #expect(checked >= 10)
    // The seed CNN and the other plain state dicts are read in one pass.
    #expect(read.contains("seed_cnn.pt"))
    #expect(read.count * 2 >= checked, "\(read)")
  }
}
