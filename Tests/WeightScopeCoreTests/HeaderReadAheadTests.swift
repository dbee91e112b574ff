import Foundation
import Testing

@testable import WeightScopeCore

@Suite struct HeaderReadAheadTests {
  /// A sparse file of `size` bytes: mapped like a model, with no data on disk.
  func sparseFile(_ size: Int) throws -> FileBytes {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("readahead-\(UUID().uuidString).bin")
    #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: UInt64(size))
    try handle.close()
    defer { try? FileManager.default.removeItem(at: url) }
    return try FileBytes(path: url.path)
  }

  /// Headers of a weight (1 MiB) and its bias (2 KiB), one pair after another.
  func headers(_ pairs: Int) -> [Int] {
    let pair = (1 << 20) + 2048
    var positions: [Int] = []
    for i in 0..<pairs {
      let weight = 4096 + i * pair
      positions += [weight, weight + (1 << 20)]
    }
    return positions
  }

  @Test func warmWalkRequestsNothing() throws {
    let bytes = try sparseFile(200 << 20)
    var readAhead = HeaderReadAhead(bytes)
    for position in headers(40) {
      let started = readAhead.willRead(at: position)
      readAhead.didRead(at: position, started: started)
    }
    // Reads from memory are fast: never taken for a cold walk.
    #expect(!readAhead.isCold)
    #expect(readAhead.requested == 0)
  }

  @Test func coldWalkRequestsTheRepeatingPatternAhead() throws {
    let bytes = try sparseFile(200 << 20)
    var readAhead = HeaderReadAhead(bytes)
    let positions = headers(100)
    for position in positions.prefix(12) {
      // Started at time 0: every timed read looks as slow as a disk read.
      let started = readAhead.willRead(at: position).map { _ in UInt64(0) }
      readAhead.didRead(at: position, started: started)
    }
    #expect(readAhead.isCold)
    // The guesses are the real headers: the last requested is one of them, well ahead.
    #expect(positions.contains(readAhead.requested))
    #expect(readAhead.requested > positions[40])
    // Never past the end of the file.
    #expect(readAhead.requested < bytes.count)
  }

  @Test func shortJumpsAreNeitherTimedNorKept() throws {
    let bytes = try sparseFile(1 << 20)
    var readAhead = HeaderReadAhead(bytes)
    for position in stride(from: 0, to: 1 << 20, by: 100) {
      #expect(readAhead.willRead(at: position) == nil)
      readAhead.didRead(at: position, started: 0)
    }
    #expect(!readAhead.isCold)
    #expect(readAhead.requested == 0)
  }
}
