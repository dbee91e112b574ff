import Foundation
import Testing

@testable import WeightScopeCore

@Suite struct MappedFootprintTests {
  /// A file of `pages` pages of real bytes, mapped.
  func mappedFile(pages: Int) throws -> FileBytes {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("footprint-\(UUID().uuidString).bin")
    try Data(repeating: 0x5a, count: pages * 4096).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try FileBytes(path: url.path)
  }

  /// Reads one byte of every page in `pages`, mapping them.
  func touch(_ bytes: FileBytes, _ pages: Range<Int>) -> Int {
    pages.reduce(0) { $0 + Int(bytes.buffer[$1 * 4096]) }
  }

  #if os(Linux)
    @Test func releasedPagesAreUnmappedAndReadTheSame() throws {
      let bytes = try mappedFile(pages: 32)
      #expect(touch(bytes, 0..<32) == 32 * 0x5a)
      #expect(bytes.mappedPages(after: 0) == 8)
      bytes.release(0..<(16 * 4096))
      #expect(bytes.mappedPages(after: 0) == 0)
      #expect(bytes.mappedPages(after: 15 * 4096) == 8)
      // Released bytes are read again from the file.
      #expect(touch(bytes, 0..<32) == 32 * 0x5a)
      #expect(bytes.mappedPages(after: 0) == 8)
      // The last pages have fewer after them.
      #expect(bytes.mappedPages(after: 28 * 4096) == 3)
    }

    @Test func walkReleasesWhatItPassedWhenHeadersMapTheirNeighbours() throws {
      let bytes = try mappedFile(pages: 64)
      #expect(touch(bytes, 0..<64) == 64 * 0x5a)
      var walk = MappedFootprint(bytes, from: 0)
      for header in 1...3 { walk.landed(at: header * 4096) }
      #expect(walk.mapsAround == true)
      #expect(bytes.mappedPages(after: 0) == 8)  // Nothing released before the fourth.
      walk.landed(at: 4 * 4096)
      #expect(bytes.mappedPages(after: 0) == 5)  // Pages 0 to 3 released, 4 to 8 mapped.
      // A second walk over the same region starts from what the first found out.
      let again = walk.restarted(from: 0)
      #expect(again.mapsAround == true)
    }

    @Test func walkKeepsCheckingWhileHeadersMapNothingAround() throws {
      let pages = 2 * MappedFootprint.checkEvery + 16
      let bytes = try mappedFile(pages: pages)
      var walk = MappedFootprint(bytes, from: 0)
      // The first headers are read alone: nothing after them stays mapped (the pages that
      // fault-around maps beside a cached page are unmapped again).
      for header in 0..<MappedFootprint.checkEvery {
        _ = touch(bytes, header..<(header + 1))
        bytes.release(((header + 1) * 4096)..<(pages * 4096))
        walk.landed(at: header * 4096)
      }
      #expect(walk.mapsAround == false)
      // Then the file's rest is mapped whole, as after a read of all of it.
      let rest = MappedFootprint.checkEvery..<pages
      #expect(touch(bytes, rest) == rest.count * 0x5a)
      walk.landed(at: rest.lowerBound * 4096)
      #expect(walk.mapsAround == true)
      for header in (rest.lowerBound + 1)...(rest.lowerBound + 3) { walk.landed(at: header * 4096) }
      // Everything passed so far, the early headers included, is released.
      #expect(bytes.mappedPages(after: 0) == 0)
      #expect(bytes.mappedPages(after: (rest.lowerBound + 3) * 4096) == 8)
    }
  #endif
}
