import Foundation
import Testing
import WeightScopeCommands

/// End to end: the command line parsed and run in-process, stdout and exit code compared.
@Suite struct CLITests {
  let seed = testModel("seed_cnn.pt")

  @Test func inspectSeed() {
    let out = WeightScopeCommand.run([seed])
    #expect(out.status == 0)
    #expect(out.stdout.contains("Trainable params:      5,852,234"))
    #expect(out.stdout.contains("((3*3*64)+1)*128 = 73,856"))
    #expect(out.stderr.isEmpty)
  }

  @Test func inspectJSONTotals() throws {
    let out = WeightScopeCommand.run(["inspect", "--format", "json", seed])
    #expect(out.status == 0)
    let doc = try #require(
      try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
    #expect(doc["schema"] as? String == "weightscope.inspect/1")
    let totals = try #require(doc["totals"] as? [String: Any])
    #expect(totals["trainable"] as? Int == 5_852_234)
    #expect(totals["nonTrainable"] as? Int == 899)
  }

  @Test func inspectTensors() {
    let out = WeightScopeCommand.run([seed, "--tensors"])
    #expect(out.stdout.contains("19.weight"))
    #expect(out.stdout.contains("running_mean"))
  }

  @Test func severalFilesAsJSONLines() throws {
    let out = WeightScopeCommand.run(
      ["--format", "json", seed, testModel("seed_cnn.onnx"), testModel("small_bn.pt")])
    #expect(out.status == 0)
    let lines = out.stdout.split(separator: "\n")
    #expect(lines.count == 3)
    for line in lines {
      let doc = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      #expect(doc?["file"] is String)
    }
  }

  @Test func missingFile() {
    let out = WeightScopeCommand.run(["/nonexistent/model.pt"])
    #expect(out.status == 2)
    #expect(out.stderr.split(separator: "\n").count == 1)
    #expect(out.stderr.contains("/nonexistent/model.pt"))
  }

  @Test func notAWeightFile() {
    let out = WeightScopeCommand.run([testModel("README.md")])
    #expect(out.status == 2)
    #expect(out.stderr.contains("README.md"))
  }

  @Test func badUsage() {
    #expect(WeightScopeCommand.run(["inspect"]).status == 64)
    #expect(WeightScopeCommand.run([seed, "--format", "yaml"]).status == 64)
    #expect(WeightScopeCommand.run(["verify", seed]).status == 64)
  }

  @Test func budgetTextErrorsAreUsageErrors() {
    let out = WeightScopeCommand.run([seed, "--max-params", "lots"])
    #expect(out.status == 64)
    #expect(out.stderr.contains("'lots': not a number"))
    #expect(WeightScopeCommand.run([seed, "--max-bytes", "25XB"]).status == 64)
  }

  @Test func inspectOverBudgetNamesLargestLayers() {
    let out = WeightScopeCommand.run([seed, "--max-params", "5M"])
    #expect(out.status == 1)
    #expect(out.stdout.contains("over budget: 5,853,133 parameters, budget 5,000,000"))
    #expect(out.stdout.contains("19  linear  4,195,328  71.7% of the total"))
    let within = WeightScopeCommand.run([seed, "--max-params", "5_853_133", "--max-bytes", "24MiB"])
    #expect(within.status == 0)
  }

  @Test func budgetWithJSONKeepsStdoutJSON() throws {
    let out = WeightScopeCommand.run([seed, "--format", "json", "--max-trainable", "1e6"])
    #expect(out.status == 1)
    #expect(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) is [String: Any])
    #expect(out.stderr.contains("over budget"))
  }

  @Test func summarySeed() {
    let out = WeightScopeCommand.run(
      ["summary", testModel("specs/seed_cnn.py"), "--input", "3x32x32"])
    #expect(out.status == 0)
    for fragment in ["64x16x16", "128x8x8", "256x4x4", "Trainable params:      5,852,234",
      "running_mean/var 896", "(4096*1024)+1024 = 4,195,328"]
    {
      #expect(out.stdout.contains(fragment), "\(fragment)")
    }
  }

  @Test func verifySeed() {
    let spec = testModel("specs/seed_cnn.py")
    let pt = WeightScopeCommand.run(["verify", seed, "--spec", spec])
    #expect(pt.status == 0)
    #expect(pt.stdout.contains("Verdict: OK"))
    let onnx = WeightScopeCommand.run(["verify", testModel("seed_cnn.onnx"), "--spec", spec])
    #expect(onnx.status == 0)
    let changed = WeightScopeCommand.run(["verify", testModel("seed_cnn_changed.pt"), "--spec", spec])
    #expect(changed.status == 1)
    #expect(changed.stdout.contains("21.weight"))
    #expect(changed.stdout.contains("[256, 1024]") && changed.stdout.contains("[512, 1024]"))
  }
}
