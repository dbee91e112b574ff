import Foundation
import Testing
import WeightScopeCommands

/// `summary` and `verify` in detail: JSON documents, prefixes, checkpoints as specs, errors.
@Suite struct SummaryVerifyTests {
  let seedSpec = testModel("specs/seed_cnn.py")

  func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  @Test func summaryJSON() throws {
    let out = WeightScopeCommand.run(["summary", seedSpec, "--input", "3x32x32", "--format", "json"])
    #expect(out.status == 0)
    let doc = try json(out.stdout)
    #expect(doc["schema"] as? String == "weightscope.summary/1")
    #expect(doc["output"] as? [Int] == [10])
    let totals = try #require(doc["totals"] as? [String: Any])
    #expect(totals["trainable"] as? Int == 5_852_234)
    #expect(totals["runningStats"] as? Int == 896)
    let layers = try #require(doc["layers"] as? [[String: Any]])
    #expect(layers.count == 24)
    #expect(layers[4]["output"] as? [Int] == [64, 16, 16])
    #expect(layers[6]["formula"] as? String == "((3*3*64)+1)*128")
    #expect(layers[1]["parameters"] as? Int == 0)
  }

  @Test func summaryOfJSONSpecMatchesPythonSpec() {
    let py = WeightScopeCommand.run(["summary", seedSpec, "--input", "3x32x32"])
    let js = WeightScopeCommand.run(["summary", testModel("specs/seed_cnn.json"), "--input", "3x32x32"])
    #expect(js.status == 0)
    let table = { (s: String) in s.split(separator: "\n").dropFirst(1).joined(separator: "\n") }
    #expect(table(py.stdout) == table(js.stdout))
  }

  @Test func summaryOverBudget() {
    let out = WeightScopeCommand.run(["summary", seedSpec, "--input", "3x32x32", "--max-params", "5.9M", "--max-bytes", "20MB"])
    #expect(out.status == 1)
    #expect(out.stdout.contains("over budget: 23,412,544 bytes, budget 20,000,000"))
    #expect(!out.stdout.contains("5,900,000"))
  }

  @Test func summaryShapeErrorNamesTheLine() {
    let out = WeightScopeCommand.run(["summary", seedSpec, "--input", "3x16x16"])
    #expect(out.status == 2)
    #expect(out.stderr.contains("seed_cnn.py:21:"))
  }

  @Test func summaryBadInputIsUsage() {
    #expect(WeightScopeCommand.run(["summary", seedSpec, "--input", "3xbig"]).status == 64)
  }

  @Test func verifyStripsWrapperPrefixes() {
    for file in ["small_bn_ddp.pt", "small_bn_compiled.pt"] {
      let out = WeightScopeCommand.run(["verify", testModel(file), "--spec", testModel("small_bn.pt")])
      #expect(out.status == 0, "\(file)")
      #expect(out.stdout.contains("Prefix:"), "\(file)")
    }
  }

  @Test func verifyCheckpointAgainstCheckpoint() {
    let out = WeightScopeCommand.run(
      ["verify", testModel("seed_cnn_changed.pt"), "--spec", testModel("seed_cnn.pt")])
    #expect(out.status == 1)
    #expect(out.stdout.contains("size mismatch for 21.weight"))
    #expect(WeightScopeCommand.run(
      ["verify", testModel("seed_cnn.onnx"), "--spec", testModel("seed_cnn.pt")]).status == 0)
  }

  @Test func verifyReportsMissingAndUnexpected() {
    let out = WeightScopeCommand.run(["verify", testModel("small_bn.pt"), "--spec", seedSpec])
    #expect(out.status == 1)
    #expect(out.stdout.contains("Missing key(s) in state_dict"))
    #expect(out.stdout.contains("Unexpected key(s) in state_dict"))
  }

  @Test func verifyJSON() throws {
    let out = WeightScopeCommand.run(
      ["verify", testModel("seed_cnn_changed.pt"), "--spec", seedSpec, "--format", "json"])
    #expect(out.status == 1)
    let doc = try json(out.stdout)
    #expect(doc["matches"] as? Bool == false)
    let layers = try #require(doc["layers"] as? [[String: Any]])
    let l21 = try #require(layers.first { $0["name"] as? String == "21" })
    #expect(l21["status"] as? String == "shape mismatch")
  }

  @Test func verifyUnreadable() {
    let bad = WeightScopeCommand.run(["verify", "/nonexistent.pt", "--spec", seedSpec])
    #expect(bad.status == 2 && bad.stderr.contains("/nonexistent.pt"))
    let noSpec = WeightScopeCommand.run(["verify", testModel("seed_cnn.pt"), "--spec", "/nonexistent.py"])
    #expect(noSpec.status == 2)
  }
}
