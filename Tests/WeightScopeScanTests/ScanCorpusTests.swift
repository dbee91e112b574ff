import Testing
import WeightScopeCore
import WeightScopeModel
import WeightScopeScan

/// The scan's verdict and exact findings on every pickle and zip trick of the corpus.
@Suite struct ScanCorpusTests {
  static let cases: [(file: String, verdict: ScanVerdict, codes: [String])] = [
    ("clean.pt", .clean, []),
    ("os_system_global.pkl", .dangerous, ["pickle.dangerous-global"]),
    (
      "stack_global_memo.pkl", .dangerous,
      ["pickle.dangerous-global", "pickle.non-literal-stack-global"]
    ),
    ("inst_subprocess.pkl", .dangerous, ["pickle.dangerous-global"]),
    ("obj_runpy.pkl", .dangerous, ["pickle.dangerous-global"]),
    ("newobj_ex_unknown.pkl", .suspicious, ["pickle.unknown-global"]),
    ("ext_code.pkl", .suspicious, ["pickle.extension-code"]),
    ("dotted_name.pkl", .dangerous, ["pickle.dotted-name"]),
    ("uncalled_import.pkl", .dangerous, ["pickle.dangerous-global"]),
    ("two_pickles.pkl", .dangerous, ["pickle.dangerous-global"]),
    ("trailing_bytes.pkl", .suspicious, ["pickle.trailing-bytes"]),
    ("broken_after_system.pkl", .dangerous, ["pickle.dangerous-global", "pickle.unreadable"]),
    ("getattr_builtins.pkl", .dangerous, ["pickle.dangerous-global"]),
    (
      "pickle_before_zip.pt", .dangerous,
      ["pickle.dangerous-global", "zip.prefix-data", "zip.pickle-before-archive"]
    ),
    ("constants_member.pt", .dangerous, ["pickle.dangerous-global"]),
    ("hidden_member.pt", .dangerous, ["pickle.dangerous-global"]),
    ("data_pkl_trailing.pt", .dangerous, ["pickle.dangerous-global"]),
    ("duplicate_data_pkl.pt", .dangerous, ["zip.duplicate-name", "pickle.dangerous-global"]),
    ("local_name_mismatch.pt", .suspicious, ["zip.local-mismatch"]),
    ("local_method_mismatch.pt", .suspicious, ["zip.local-mismatch"]),
    ("local_size_mismatch.pt", .suspicious, ["zip.local-mismatch"]),
    (
      "overlap.pt", .suspicious,
      [
        "zip.local-mismatch", "zip.local-mismatch", "zip.local-mismatch", "zip.local-mismatch",
        "zip.overlap", "zip.crc",
      ]
    ),
    ("hidden_end_record.pt", .suspicious, ["zip.hidden-end-record"]),
    ("bad_crc.pt", .suspicious, ["zip.crc"]),
    ("huge_string.pt", .suspicious, ["pickle.unreadable"]),
    ("mark_depth.pt", .suspicious, ["pickle.unreadable"]),
    ("zip_bomb_lying_size.zip", .suspicious, ["zip.entry-data"]),
  ]

  @Test(arguments: cases)
  func verdictAndFindings(file: String, verdict: ScanVerdict, codes: [String]) throws {
    let result = try Scanner.scan(path: malformed(file))
    #expect(result.findings.map(\.code) == codes, "\(file): \(result.findings)")
    #expect(result.verdict == verdict, "\(file)")
  }

  @Test func findingsNameTheGlobalTheRouteAndTheOffset() throws {
    let memo = try Scanner.scan(path: malformed("stack_global_memo.pkl"))
    let dangerous = try #require(memo.findings.first)
    #expect(dangerous.message.contains("builtins.eval (STACK_GLOBAL at 0x1a, called)"))
    #expect(dangerous.message.contains("evaluates Python code"))
    #expect(dangerous.offset == 0x1a)

    let uncalled = try Scanner.scan(path: malformed("uncalled_import.pkl"))
    #expect(uncalled.findings.first?.message.contains("imported but never called") == true)

    let inst = try Scanner.scan(path: malformed("inst_subprocess.pkl"))
    #expect(inst.findings.first?.message.contains("subprocess.Popen (INST at 0x7") == true)

    let second = try Scanner.scan(path: malformed("two_pickles.pkl"))
    #expect(second.findings.first?.message.contains("pickle 2 at 0x11") == true)
    #expect(second.findings.first?.message.contains("posix.system") == true)

    let duplicate = try Scanner.scan(path: malformed("duplicate_data_pkl.pt"))
    #expect(duplicate.findings.first?.message.contains("entries 0, 2") == true)
    #expect(duplicate.findings.first?.message.contains("zipfile loads entry 2") == true)
  }

  @Test func storagesAreNotReadAtMetadataDepth() throws {
    let full = try Scanner.scan(path: malformed("bad_crc.pt"), depth: .full)
    let metadata = try Scanner.scan(path: malformed("bad_crc.pt"), depth: .metadata)
    #expect(full.findings.map(\.code) == ["zip.crc"])
    #expect(metadata.findings.isEmpty)
  }

  @Test func brokenArchivesAreReadErrors() {
    for (file, kind) in [
      ("truncated_end.pt", ReadError.Kind.badMagic), ("lying_entry_count.pt", .truncated),
      ("onnx_overflow_dims.onnx", .overflow),
    ] {
      #expect(throws: ReadError.self, "\(file)") { try Scanner.scan(path: malformed(file)) }
      do {
        _ = try Scanner.scan(path: malformed(file))
      } catch {
        #expect(error.kind == kind, "\(file)")
      }
    }
  }
}
