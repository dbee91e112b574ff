import Foundation
import Testing
import WeightScopeCore

@testable import WeightScopePickle

@Suite struct PickleFixtureTests {
  @Test(arguments: 0...5)
  func cpythonPickleOfEachProtocol(protocolVersion: Int) throws {
    let bytes = try [UInt8](
      Data(contentsOf: fixtures.appendingPathComponent("value\(protocolVersion).pkl")))
    let expected = try String(
      contentsOf: fixtures.appendingPathComponent("value.expected.txt"), encoding: .utf8)
    let document = try run(bytes)
    #expect(document.protocolVersion == (protocolVersion >= 2 ? protocolVersion : 0))
    #expect(document.endOffset == bytes.count)
    #expect(render(document, document.root) + "\n" == expected)
  }

  @Test func sharedListStaysOneNode() throws {
    let bytes = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("value4.pkl")))
    let document = try run(bytes)
    guard case .dict(let entries)? = document.node(document.root),
      let shared = entries.first(where: { $0.key == .string("shared") }),
      let pair = document.sequence(shared.value)
    else {
      Issue.record("no 'shared' list")
      return
    }
    #expect(pair.count == 2)
    #expect(pair[0] == pair[1])
    #expect(pair[0].nodeID != nil)
  }

  @Test(arguments: [2, 5])
  func everyTruncatedPrefixThrows(protocolVersion: Int) throws {
    let bytes = try [UInt8](
      Data(contentsOf: fixtures.appendingPathComponent("value\(protocolVersion).pkl")))
    // Every proper prefix ends before STOP, so each must fail cleanly.
    for length in 0..<bytes.count {
      let failure = error { () throws(ReadError) in _ = try run(Array(bytes[..<length])) }
      guard let failure else {
        Issue.record("prefix of \(length) bytes did not throw")
        return
      }
      #expect(
        failure.kind == .truncated || failure.kind == .malformed, "prefix \(length): \(failure)")
      #expect((failure.offset ?? -1) <= length)
    }
  }
}
