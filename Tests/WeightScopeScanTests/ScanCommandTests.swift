import Testing
import WeightScopeCommands

/// `weightscope scan` end to end: output, exit codes, limits from the command line.
@Suite struct ScanCommandTests {
  @Test func cleanFileExitsZero() {
    let output = WeightScopeCommand.run(["scan", malformed("clean.pt")])
    #expect(output.status == 0)
    #expect(output.stdout == "\(malformed("clean.pt")): clean\n")
  }

  @Test func dangerousFileExitsOneWithItsFindings() {
    let output = WeightScopeCommand.run(["scan", malformed("clean.pt"), malformed("obj_runpy.pkl")])
    #expect(output.status == 1)
    #expect(output.stdout.contains("obj_runpy.pkl: dangerous\n"))
    #expect(output.stdout.contains("  error pickle.dangerous-global: pickle at 0x0: global runpy.run_path"))
  }

  @Test func unreadableFileExitsTwo() {
    let output = WeightScopeCommand.run(["scan", malformed("truncated_end.pt"), malformed("obj_runpy.pkl")])
    #expect(output.status == 2)
    #expect(output.stderr.hasPrefix("weightscope: \(malformed("truncated_end.pt")): end of central directory"))
  }

  @Test func jsonHasTheVerdictAndFindings() {
    let output = WeightScopeCommand.run(["scan", "--format", "json", malformed("ext_code.pkl")])
    #expect(output.stdout.hasPrefix("{\"schema\":\"weightscope.scan/1\""))
    #expect(output.stdout.contains("\"verdict\":\"suspicious\""))
    #expect(output.stdout.contains("\"code\":\"pickle.extension-code\""))
    #expect(output.stdout.contains("\"offset\":2"))
  }

  @Test func limitOptionRaisesALimit() {
    let refused = WeightScopeCommand.run(["inspect", malformed("rank_100.pt")])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("Limits.tensorRank"))
    let raised = WeightScopeCommand.run(["inspect", "--limit", "tensorRank=128", malformed("rank_100.pt")])
    #expect(raised.status == 0)
  }

  @Test func unknownLimitIsAUsageError() {
    let output = WeightScopeCommand.run(["scan", "--limit", "bogus=1", malformed("clean.pt")])
    #expect(output.status == 64)
  }

  @Test func inspectShowsTheScanFindings() {
    let output = WeightScopeCommand.run(["inspect", "--format", "json", malformed("constants_member.pt")])
    #expect(output.stdout.contains("\"code\":\"pickle.dangerous-global\""))
    #expect(output.stdout.contains("archive/constants.pkl"))
    #expect(output.status == 1)
    let clean = WeightScopeCommand.run(["inspect", malformed("clean.pt")])
    #expect(clean.status == 0)
  }
}
