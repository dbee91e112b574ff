import Testing
import WeightScopeCore
import WeightScopeModel

@testable import WeightScopePickle
@testable import WeightScopePyTorch

/// A state dict large enough to be walked in two halves at once must list exactly what one
/// walk of the whole lists, or be walked whole.
@Suite struct CheckpointHalvesTests {
  /// Entries `e0`, `e1`, ...: each a tensor on its own storage, except where `body` writes
  /// the value itself.
  func stateDict(_ count: Int, body: (inout PickleWriter, Int) -> Bool = { _, _ in false })
    -> [UInt8]
  {
    var writer = PickleWriter()
    writer.op("}")
    writer.op("(")
    for i in 0..<count {
      writer.string("e\(i)")
      if !body(&writer, i) {
        writer.tensor(key: "\(i)", numel: 4, shape: [2, 2], stride: [2, 1])
      }
    }
    writer.op("u")
    return writer.stop()
  }

  /// `count` entries whose last is the first one's value again, by memo index `memo`.
  func stateDict(_ count: Int, lastRepeatsFirst memo: UInt8, first: (inout PickleWriter) -> Void)
    -> [UInt8]
  {
    stateDict(count) { writer, i in
      if i == 0 {
        first(&writer)
        writer.bytes += [UInt8(ascii: "q"), memo]  // BINPUT
        return true
      }
      guard i == count - 1 else { return false }
      writer.bytes += [UInt8(ascii: "h"), memo]  // BINGET
      return true
    }
  }

  func records(_ count: Int) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: (0..<count).map { ("\($0)", 16) })
  }

  /// What one walk of the whole finds: names, shapes and offsets, in order.
  func wholeWalk(_ pickle: [UInt8]) throws(ReadError) -> [String] {
    let document = try PickleMachine.run(FileBytes(copying: pickle).reader())
    var walker = CheckpointWalker(document: document, limits: .default)
    try walker.walk(document.root, path: WalkPath(), section: "", declared: nil, depth: 0)
    return walker.tensors.map { "\($0.name) \($0.rebuild.shape) \($0.rebuild.offset)" }
  }

  func halves(_ pickle: [UInt8]) throws -> (
    first: CheckpointWalker, second: [CheckpointWalker.FoundTensor]
  )? {
    let document = try PickleMachine.run(FileBytes(copying: pickle).reader())
    return try CheckpointWalker.walkInHalves(document, limits: .default)
  }

  @Test func largeStateDictIsWalkedInHalvesAsOneWalkWouldBe() throws {
    let count = 5000
    // The last entry names the first entry's tensor again (tied weights).
    let pickle = stateDict(count, lastRepeatsFirst: 200) { writer in
      writer.tensor(key: "0", numel: 4, shape: [2, 2], stride: [2, 1])
    }
    let split = try #require(try halves(pickle))
    let found = (split.first.tensors + split.second).map {
      "\($0.name) \($0.rebuild.shape) \($0.rebuild.offset)"
    }
    #expect(split.first.tensors.count == count / 2)
    #expect(found == (try wholeWalk(pickle)))

    let contents = try read(pickle, records: records(count))
    #expect(contents.tensors.count == count)
    #expect(contents.tensors.map(\.name) == (0..<count).map { "e\($0)" })
    #expect(contents.tensors.last?.sharedWith == "e0")
    #expect(contents.tensors.dropLast().allSatisfy { $0.sharedWith == nil })
  }

  @Test func containerInBothHalvesIsWalkedOnce() throws {
    let count = 5000
    // The first entry is a list holding a tensor; the last entry is that same list.
    let pickle = stateDict(count, lastRepeatsFirst: 201) { writer in
      writer.op("(")
      writer.tensor(key: "0", numel: 4, shape: [2, 2], stride: [2, 1])
      writer.op("l")
    }
    #expect(try halves(pickle) == nil)
    let contents = try read(pickle, records: records(count))
    let whole = try wholeWalk(pickle)
    #expect(contents.tensors.map(\.name) == whole.map { String($0.prefix { $0 != " " }) })
    #expect(contents.tensors.first?.name == "e0.0")
    #expect(!contents.tensors.contains { $0.name.hasPrefix("e\(count - 1)") })
  }

  @Test(arguments: [10, 4000])
  func badTensorInEitherHalfFailsAsOneWalkWould(at bad: Int) throws {
    let count = 5000
    // A tensor whose size is not a tuple: the walk itself fails there.
    let pickle = stateDict(count) { writer, i in
      guard i == bad else { return false }
      writer.tensor(key: "\(i)", numel: 4, shape: [2, 2], stride: [2, 1])
      let size = [
        UInt8(ascii: "("), UInt8(ascii: "J"), 2, 0, 0, 0, UInt8(ascii: "J"), 2, 0, 0, 0,
        UInt8(ascii: "t"),
      ]
      if let at = writer.bytes.lastRange(of: size) {
        writer.bytes.replaceSubrange(at, with: [UInt8(ascii: "N")])
      }
      return true
    }
    var wholeError: ReadError?
    do { _ = try wholeWalk(pickle) } catch { wholeError = error }
    var listedError: ReadError?
    do { _ = try read(pickle, records: records(count)) } catch { listedError = error }
    let expected = try #require(wholeError)
    #expect(listedError?.offset == expected.offset)
    #expect(listedError?.message == expected.message)
    #expect(listedError?.context == "data.pkl: " + expected.context)
  }
}

extension CheckpointHalvesTests {
  /// Checked against their records in two halves at once, tensors fail in tensor order.
  @Test func missingRecordsInBothHalvesReportTheFirst() throws {
    let count = 5000
    var records = records(count)
    records["4000"] = nil
    records["100"] = nil
    var failure: ReadError?
    do { _ = try read(stateDict(count), records: records) } catch { failure = error }
    #expect(failure?.message == "storage record data/100 is missing")
    #expect(failure?.context == "data.pkl: tensor e100")

    records["100"] = 16
    failure = nil
    do { _ = try read(stateDict(count), records: records) } catch { failure = error }
    #expect(failure?.message == "storage record data/4000 is missing")
  }
}

extension Array where Element == UInt8 {
  /// The last range of these bytes equal to `pattern`.
  fileprivate func lastRange(of pattern: [UInt8]) -> Range<Int>? {
    guard count >= pattern.count else { return nil }
    for start in stride(from: count - pattern.count, through: 0, by: -1)
    where self[start..<(start + pattern.count)].elementsEqual(pattern) {
      return start..<(start + pattern.count)
    }
    return nil
  }
}
