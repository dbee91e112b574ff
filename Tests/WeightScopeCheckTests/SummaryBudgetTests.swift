import Foundation
import Testing
import WeightScopeAnalysis
import WeightScopeModel
import WeightScopeSpec

@testable import WeightScopeCheck

/// `TestModels/<name>`, found from this file's place in the checkout.
func testModel(_ name: String) -> String {
  URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("TestModels/\(name)").path
}

@Suite struct SeedSummaryTests {
  /// The seed document's table: output shapes from its comments, 5,852,234 trainable
  /// parameters; torch reports 899 buffers (896 running statistics + 3 counters).
  @Test func seedCNN() throws {
    let spec = try SpecParser.parse(path: testModel("specs/seed_cnn.py"))
    let summary = try ModelSummary(spec: spec, input: [3, 32, 32])
    #expect(summary.rows.count == 24)
    let shapes = Dictionary(uniqueKeysWithValues: summary.rows.map { ($0.path, $0.output ?? []) })
    #expect(shapes["4"] == [64, 16, 16])
    #expect(shapes["10"] == [128, 8, 8])
    #expect(shapes["16"] == [256, 4, 4])
    #expect(shapes["18"] == [4096])
    #expect(summary.output == [10])
    #expect(summary.trainable == 5_852_234)
    #expect(summary.runningStats == 896)
    #expect(summary.counters == 3)
    #expect(summary.nonTrainable == 899)
    // 5,853,130 float32 elements and 3 int64 counters: the size torch.save writes.
    #expect(summary.bytes == 23_412_544)
    #expect(summary.rows.filter { $0.parameters == 0 }.count == 12)
    let text = summary.renderText()
    #expect(text.contains("((3*3*64)+1)*128 = 73,856"))
    #expect(text.contains("Trainable params:      5,852,234"))
    #expect(text.contains("running_mean/var 896"))
  }

  @Test func withoutInputShapesAreUnknown() throws {
    let spec = try SpecParser.parsePython("nn.Sequential(nn.Linear(4, 2), nn.ReLU())")
    let summary = try ModelSummary(spec: spec)
    #expect(summary.rows.map(\.output) == [nil, nil])
    #expect(summary.parameters == 10)
  }
}

@Suite struct BudgetTests {
  @Test(arguments: [
    ("5852234", 5_852_234), ("5_852_234", 5_852_234), ("5,852,234", 5_852_234),
    ("5.9M", 5_900_000), ("6e6", 6_000_000), ("120k", 120_000), ("7B", 7_000_000_000),
  ])
  func counts(_ text: String, _ value: Int) throws {
    #expect(try Budget.parseCount(text) == value)
  }

  @Test(arguments: [
    ("25MB", 25_000_000), ("24MiB", 25_165_824), ("23412544", 23_412_544), ("1.5GB", 1_500_000_000),
    ("512KiB", 524_288), ("100B", 100),
  ])
  func sizes(_ text: String, _ value: Int) throws {
    #expect(try Budget.parseBytes(text) == value)
  }

  @Test(arguments: ["", "abc", "5.9X", "-3", "1e400", "MB", "9e30"])
  func badText(_ text: String) {
    #expect(throws: Budget.ParseError.self) { try Budget.parseCount(text) }
    #expect(throws: Budget.ParseError.self) { try Budget.parseBytes(text) }
  }

  @Test func excessNamesTheLargestLayers() throws {
    let spec = try SpecParser.parse(path: testModel("specs/seed_cnn.py"))
    let summary = try ModelSummary(spec: spec, input: [3, 32, 32])
    let subject = BudgetSubject(
      parameters: summary.parameters, trainable: summary.trainable, bytes: summary.bytes,
      layers: summary.rows.map {
        BudgetSubject.Layer(
          name: $0.path, type: $0.type, parameters: $0.parameters, trainable: $0.trainable,
          bytes: $0.bytes)
      })
    #expect(Budget(maxParams: 6_000_000).check(subject).isEmpty)
    let excess = Budget(maxTrainable: 1_000_000, maxBytes: 100).check(subject)
    #expect(excess.map(\.measure) == [.trainable, .bytes])
    let first = try #require(excess.first)
    #expect(first.total == 5_852_234 && first.budget == 1_000_000)
    // Largest first until they cover the 4,852,234 excess: Linear 19, Conv2d 14, Linear 21.
    #expect(first.largest.map(\.name) == ["19", "14", "21"])
    #expect(first.lines[0].contains("5,852,234 trainable parameters, budget 1,000,000"))
    #expect(first.lines.contains { $0.contains("19  Linear") && $0.contains("71.7%") })
  }
}

@Suite struct VerificationTests {
  static func layout(_ groups: [(String, [(String, [Int])])], format: FileFormat? = nil)
    -> TensorLayout
  {
    TensorLayout(
      source: "x", format: format,
      groups: groups.map { name, slots in
        TensorLayout.Group(
          name: name, type: "t",
          slots: slots.map {
            TensorLayout.Slot(
              name: name + "." + $0.0, localName: $0.0, shape: $0.1,
              role: $0.0 == "num_batches_tracked" ? .numBatchesTracked : .weight)
          })
      }, parameterless: 0)
  }

  @Test func prefixesAreDetectedAndRemoved() {
    let spec = Self.layout([("fc", [("weight", [2, 3])])])
    let file = Self.layout([("module._orig_mod.fc", [("weight", [2, 3])])])
    let v = Verification(spec: spec, file: file)
    #expect(v.strippedFromFile == ["module.", "_orig_mod."])
    #expect(v.matching == .byName && v.matches)
  }

  @Test func missingUnexpectedAndMismatchedTensors() {
    let spec = Self.layout([("a", [("weight", [4, 2]), ("bias", [4])]), ("b", [("weight", [1])])])
    let file = Self.layout([("a", [("weight", [4, 3])]), ("c", [("weight", [1])]), ("b", [("weight", [1])])])
    let v = Verification(spec: spec, file: file)
    #expect(!v.matches)
    let statuses = v.tensors.map { "\($0.name) \($0.status.rawValue)" }
    #expect(statuses == ["a.weight shape mismatch", "a.bias missing", "b.weight match", "c.weight unexpected"])
    #expect(v.verdictLines.contains { $0.contains("Missing key(s) in state_dict: \"a.bias\"") })
  }

  @Test func unnamedFilesMatchByOrder() {
    let spec = Self.layout([("0", [("weight", [4, 2])]), ("2", [("weight", [3, 4])])])
    let file = Self.layout([("/fc1/Gemm", [("weight", [4, 2])]), ("/fc2/Gemm", [("weight", [3, 5])])])
    let v = Verification(spec: spec, file: file)
    #expect(v.matching == .byOrder)
    #expect(v.tensors.map(\.status) == [.match, .shapeMismatch])
    #expect(v.tensors.last?.fileName == "/fc2/Gemm.weight")
  }

  @Test func onnxKeepsNoBatchCounter() {
    let spec = Self.layout([("bn", [("weight", [4]), ("num_batches_tracked", [])])])
    let file = Self.layout([("bn", [("weight", [4])])], format: .onnx)
    #expect(Verification(spec: spec, file: file).matches)
    let pt = Self.layout([("bn", [("weight", [4])])], format: .pytorchZip)
    #expect(!Verification(spec: spec, file: pt).matches)
  }
}
