import Testing
import WeightScope
import WeightScopeCore

/// Every broken file of the corpus fails with the error kind and offset that name its defect.
@Suite struct MalformedCorpusTests {
  static let cases: [(file: String, outcome: String, message: String)] = [
    ("truncated_end.pt", "badMagic@nil", "no end of central directory record"),
    ("bad_magic.pt", "badMagic@0x0", "not a PyTorch checkpoint"),
    ("lying_entry_count.pt", "truncated@0x272", "signature needs 4 bytes"),
    ("lying_directory_offset.pt", "malformed@0x272", "is not before the end record"),
    ("duplicate_data_pkl.pt", "malformed@0x204", "duplicate entry name \"archive/data.pkl\""),
    ("overlap.pt", "malformed@0x0", "overlaps entry \"archive/data.pkl\""),
    ("missing_storage.pt", "malformed@0xcf", "storage record data/0 is missing"),
    ("short_storage.pt", "malformed@0xcf", "the record has 8"),
    ("overflowing_shape.pt", "overflow@0xdf", "overflows"),
    ("rank_100.pt", "limitExceeded@0x167", "Limits.tensorRank"),
    ("deep_nesting.pt", "limitExceeded@0x225", "Limits.objectDepth"),
    ("mark_depth.pt", "limitExceeded@0x2740", "Limits.pickleMarkDepth"),
    ("huge_string.pt", "limitExceeded@0x30", "Limits.pickleStringBytes"),
    ("undefined_memo.pt", "malformed@0x30", "memo index 7 not defined"),
    ("zip_bomb_lying_size.zip", "malformed@0x3d", "inflates to more than the 1000 bytes"),
    ("onnx_overflow_dims.onnx", "overflow@0x7", "overflows"),
  ]

  @Test(arguments: cases)
  func failsWithKindAndOffset(file: String, outcome: String, message: String) {
    #expect(readOutcome(malformed(file)) == outcome, "\(file)")
    do {
      _ = try WeightFileReader.read(path: malformed(file))
    } catch {
      #expect(error.description.contains(message), "\(file): \(error)")
    }
  }

  @Test func zipBombStopsAtTheInflateLimit() {
    var limits = Limits()
    limits.inflatedBytes = 1 << 20
    #expect(readOutcome(malformed("zip_bomb.zip"), limits: limits) == "limitExceeded@0x2e")
    // Under the default limit the 8 MiB inflate, and the zeros are not a pickle.
    #expect(readOutcome(malformed("zip_bomb.zip")) == "malformed@0x0")
  }

  @Test func deepProtobufNestingStopsAtTheDepthLimit() {
    let outcome = readOutcome(malformed("onnx_deep.onnx"))
    #expect(outcome.hasPrefix("limitExceeded@"))
    var limits = Limits()
    limits.protobufDepth = 1000
    #expect(readOutcome(malformed("onnx_deep.onnx"), limits: limits) != outcome)
  }

  /// 10^40 paths through 41 lists: walking must visit each shared list once. Expanded, the
  /// walk would not end; the time limit turns that into a failure.
  @Test(.timeLimit(.minutes(1))) func sharedMemoReferencesAreNotExpanded() throws {
    let file = try WeightFileReader.read(path: malformed("billion_laughs.pt"))
    #expect(file.tensors.isEmpty)
  }

  @Test func raisedLimitsAdmitWhatDefaultsRefuse() {
    var limits = Limits()
    limits.tensorRank = 128
    #expect(readOutcome(malformed("rank_100.pt"), limits: limits) == "read")
    limits.pickleMarkDepth = 30_000
    #expect(readOutcome(malformed("mark_depth.pt"), limits: limits) != "limitExceeded@0x2740")
  }

  /// Bit flips at fixed places of clean.pt: magic, method, name length, name, end record,
  /// directory offset, comment length, directory method.
  static let bitFlips: [(index: Int, outcome: String)] = [
    (0, "badMagic@0x0"), (1, "malformed@0x0"), (2, "malformed@0x0"), (3, "malformed@0x0"),
    (4, "badMagic@nil"), (5, "unsupported@0x272"), (6, "malformed@0x13d"),
    (7, "malformed@0x0"),
  ]

  @Test(arguments: bitFlips)
  func bitFlipsAreCleanErrors(index: Int, outcome: String) {
    #expect(readOutcome(malformed("bitflip_\(index).pt")) == outcome)
  }
}
