import Foundation
import Testing
import WeightScopeAnalysis
import WeightScopeModel
import WeightScopeReport

@Suite struct SeedCNNTests {
  let analysis = analyze(seedCNN())

  @Test func totalsBlockIsExact() {
    let text = TextReport.render(analysis)
    let expected = """
      Total params:          5,853,133
      Trainable params:      5,852,234
      Non-trainable params:        899   (running_mean/var 896, num_batches_tracked 3)
      Size:                  22.33 MiB (float32 5,853,130 · int64 3)
      """
    #expect(text.contains(expected + "\n"), "\(text)")
  }

  /// Conv and Linear rows as the seed document computes them by hand.
  @Test(arguments: [
    ("0", "((3*3*3)+1)*32", 896),
    ("2", "((3*3*32)+1)*64", 18_496),
    ("6", "((3*3*64)+1)*128", 73_856),
    ("8", "((3*3*128)+1)*128", 147_584),
    ("12", "((3*3*128)+1)*256", 295_168),
    ("14", "((3*3*256)+1)*256", 590_080),
    ("19", "(4096*1024)+1024", 4_195_328),
    ("21", "(1024*512)+512", 524_800),
    ("23", "(512*10)+10", 5_130),
  ])
  func convAndLinearFormulas(layer: String, text: String, value: Int) throws {
    let l = try #require(analysis.layers.first { $0.name == layer })
    let f = try #require(l.formula)
    #expect(f.text == text)
    #expect(f.expected == value)
    #expect(f.matches)
    #expect(l.parameters == value && l.trainable == value && l.nonTrainable == 0)
    #expect(l.kind == (text.hasPrefix("((") ? .conv2d : .linear))
  }

  @Test func batchNormSplitsRunningStatistics() throws {
    let l = try #require(analysis.layers.first { $0.name == "11" })
    #expect(l.kind == .batchnorm)
    #expect(l.trainable == 256 && l.nonTrainable == 257)
    let f = try #require(l.formula)
    #expect(f.text == "2*128 + 2*128 + 1" && f.expected == 513 && f.matches)
    #expect(f.formula.trainableText == "2*128" && f.formula.nonTrainableText == "2*128 + 1")
    let rules = l.tensorIndices.map { analysis.tensors[$0].rule }
    #expect(rules == [.knownLayer, .knownLayer, .runningStat, .runningStat, .counter])
  }

  @Test func layersAndTotals() {
    #expect(
      analysis.layers.map(\.name) == [
        "0", "2", "5", "6", "8", "11", "12", "14", "17", "19", "21", "23",
      ])
    let t = analysis.totals
    #expect(t.tensors == 33 && t.elements == 5_853_133 && t.bytes == 23_412_544)
    #expect(t.parameters == 5_853_133 && t.trainable == 5_852_234 && t.nonTrainable == 899)
    #expect(
      t.nonTrainableBreakdown.runningStats == 896 && t.nonTrainableBreakdown.numBatchesTracked == 3)
    #expect(t.elements == t.parameters + t.constants + t.optimizerState)
    #expect(t.byDType.map(\.dtype) == [.float32, .int64])
    #expect(analysis.findings.isEmpty)
  }

  @Test func tableShowsFormulaAndRunningStatistics() {
    let text = TextReport.render(analysis)
    let lines = text.split(separator: "\n").map(String.init)
    let conv = lines.first { $0.hasPrefix("0 ") } ?? ""
    #expect(conv.contains("conv2d") && conv.contains("[32, 3, 3, 3]") && conv.contains("[32]"))
    #expect(conv.hasSuffix("((3*3*3)+1)*32 = 896"))
    let bn = lines.firstIndex { $0.hasPrefix("5 ") }
    #expect(bn.map { lines[$0].hasSuffix("2*64 = 128") } == true)
    #expect(
      bn.map { lines[$0 + 1].hasSuffix("running_mean/var 2x[64] = 128, num_batches_tracked 1") }
        == true)
    #expect(lines.contains { $0.hasPrefix("19 ") && $0.hasSuffix("(4096*1024)+1024 = 4,195,328") })
    #expect(text.contains("Findings: none"))
  }

  @Test func jsonTotalsDecode() throws {
    let json = JSONReport.render(analysis, path: "TestModels/seed_cnn.pt")
    #expect(!json.contains("\n"))
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["schema"] as? String == "weightscope.inspect/1")
    #expect(object["format"] as? String == "pytorch-zip")
    let totals = try #require(object["totals"] as? [String: Any])
    #expect(totals["tensors"] as? Int == 33)
    #expect(totals["elements"] as? Int == 5_853_133)
    #expect(totals["parameters"] as? Int == 5_853_133)
    #expect(totals["trainable"] as? Int == 5_852_234)
    #expect(totals["nonTrainable"] as? Int == 899)
    #expect(totals["constants"] as? Int == 0)
    #expect(totals["optimizerState"] as? Int == 0)
    #expect(totals["bytes"] as? Int == 23_412_544)
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    #expect(tensors.count == 33)
    #expect(tensors[0]["name"] as? String == "0.weight")
    #expect(tensors[0]["shape"] as? [Int] == [32, 3, 3, 3])
    #expect(tensors[0]["layer"] as? String == "0" && tensors[0]["role"] as? String == "weight")
    #expect(tensors[0]["trainable"] as? Bool == true && tensors[0]["sharedWith"] == nil)
    let layers = try #require(object["layers"] as? [[String: Any]])
    let first = try #require(layers.first?["formula"] as? [String: Any])
    #expect(first["text"] as? String == "((3*3*3)+1)*32" && first["expected"] as? Int == 896)
    #expect(first["matches"] as? Bool == true)
    #expect(layers.first?["kind"] as? String == "conv2d")
  }
}
