import Foundation
import Testing
import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel
import WeightScopeReport

/// The state dict of this PyTorch module, printed by `state_dict()` (names and shapes):
///
///     class M(nn.Module):
///       embed = nn.Embedding(100, 8); rnn = nn.LSTM(8, 16, 2, bidirectional=True)
///       gru = nn.GRU(32, 8); enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
///       gn = nn.GroupNorm(2, 8); act = nn.PReLU(8); dw = nn.Conv2d(8, 8, 3, groups=8)
///       head = nn.Linear(8, 100, bias=False)
///
/// `sum(p.numel() for p in M().parameters())` is 13040; it has no buffers.
let mixedStateDict: [(String, [Int])] = [
  ("embed.weight", [100, 8]),
  ("rnn.weight_ih_l0", [64, 8]), ("rnn.weight_hh_l0", [64, 16]), ("rnn.bias_ih_l0", [64]),
  ("rnn.bias_hh_l0", [64]), ("rnn.weight_ih_l0_reverse", [64, 8]),
  ("rnn.weight_hh_l0_reverse", [64, 16]),
  ("rnn.bias_ih_l0_reverse", [64]), ("rnn.bias_hh_l0_reverse", [64]),
  ("rnn.weight_ih_l1", [64, 32]),
  ("rnn.weight_hh_l1", [64, 16]), ("rnn.bias_ih_l1", [64]), ("rnn.bias_hh_l1", [64]),
  ("rnn.weight_ih_l1_reverse", [64, 32]), ("rnn.weight_hh_l1_reverse", [64, 16]),
  ("rnn.bias_ih_l1_reverse", [64]), ("rnn.bias_hh_l1_reverse", [64]),
  ("gru.weight_ih_l0", [24, 32]), ("gru.weight_hh_l0", [24, 8]), ("gru.bias_ih_l0", [24]),
  ("gru.bias_hh_l0", [24]),
  ("enc.self_attn.in_proj_weight", [24, 8]), ("enc.self_attn.in_proj_bias", [24]),
  ("enc.self_attn.out_proj.weight", [8, 8]), ("enc.self_attn.out_proj.bias", [8]),
  ("enc.linear1.weight", [16, 8]), ("enc.linear1.bias", [16]), ("enc.linear2.weight", [8, 16]),
  ("enc.linear2.bias", [8]), ("enc.norm1.weight", [8]), ("enc.norm1.bias", [8]),
  ("enc.norm2.weight", [8]),
  ("enc.norm2.bias", [8]), ("gn.weight", [8]), ("gn.bias", [8]), ("act.weight", [8]),
  ("dw.weight", [8, 1, 3, 3]), ("dw.bias", [8]), ("head.weight", [100, 8]),
]

@Suite struct AnalysisTests {
  @Test func stateDictKindsFormulasAndTotals() throws {
    let file = WeightFile(
      path: "m.pt", format: .pytorchZip, tensors: mixedStateDict.map { tensor($0.0, $0.1) })
    let a = analyze(file)
    let kinds = Dictionary(uniqueKeysWithValues: a.layers.map { ($0.name, $0.kind) })
    #expect(
      kinds == [
        "embed": .embedding, "rnn": .lstm, "gru": .gru, "enc.self_attn": .multiheadattention,
        "enc.self_attn.out_proj": .linear, "enc.linear1": .linear, "enc.linear2": .linear,
        "enc.norm1": .layernorm, "enc.norm2": .layernorm, "gn": .groupnorm, "act": .prelu,
        "dw": .conv2d,
        "head": .linear,
      ])
    for layer in a.layers {
      #expect(layer.formula?.matches == true, "\(layer.name): \(layer.formula?.problems ?? [])")
    }
    let rnn = try #require(a.layers.first { $0.name == "rnn" }?.formula)
    // sum(p.numel() for p in nn.LSTM(8, 16, 2, bidirectional=True).parameters()): 9728
    #expect(rnn.expected == 9_728 && rnn.text == "2*4*16*(8+16+2) + 2*4*16*(32+16+2)")
    #expect(a.totals.trainable == 13_040 && a.totals.nonTrainable == 0)
    #expect(!a.findings.contains { $0.code == "formula.mismatch" })
    let dw = try #require(a.layers.first { $0.name == "dw" })
    #expect(dw.notes.contains { $0.contains("groups=1 assumed") })
    #expect(
      a.layers.first { $0.name == "head" }?.notes.first?.contains("Linear(bias=False)") == true)
  }

  @Test func onnxOperatorsDecideRolesKindsAndConstants() throws {
    func use(_ op: String, _ node: String, _ slot: Int, _ attributes: [String: [Int]] = [:])
      -> [OperatorUse]
    {
      [OperatorUse(opType: op, node: node, inputIndex: slot, attributes: attributes)]
    }
    let bnNode = "/features/features.1/BatchNormalization"
    let tensors = [
      tensor(
        "features.0.weight", [16, 3, 3, 3], uses: use("Conv", "/features/features.0/Conv", 1)),
      tensor("features.0.bias", [16], uses: use("Conv", "/features/features.0/Conv", 2)),
      tensor("onnx::BatchNormalization_7", [16], uses: use("BatchNormalization", bnNode, 1)),
      tensor("onnx::BatchNormalization_8", [16], uses: use("BatchNormalization", bnNode, 2)),
      tensor("onnx::BatchNormalization_9", [16], uses: use("BatchNormalization", bnNode, 3)),
      tensor("onnx::BatchNormalization_10", [16], uses: use("BatchNormalization", bnNode, 4)),
      tensor("onnx::Conv_11", [16, 1, 3, 3], uses: use("Conv", "/dw/Conv", 1, ["group": [16]])),
      tensor("onnx::Reshape_12", [2], .int64, uses: use("Reshape", "/Reshape", 1)),
      tensor("onnx::Div_13", [], uses: use("Div", "/head/Div", 1)),
      tensor("fc.weight", [10, 16], uses: use("Gemm", "/fc/Gemm", 1, ["transB": [1]])),
      tensor("fc.bias", [10], uses: use("Gemm", "/fc/Gemm", 2)),
      tensor("onnx::MatMul_14", [16, 4], uses: use("MatMul", "/proj/MatMul", 1)),
      tensor("proj.bias", [4], uses: use("Add", "/proj/Add", 0)),
    ]
    let file = WeightFile(
      path: "m.onnx", format: .onnx, tensors: tensors, facts: [FileFact("opset", "17")])
    let a = analyze(file)
    #expect(
      a.layers.map(\.name) == ["features.0", "features.1", "dw", "/Reshape", "head", "fc", "proj"])
    #expect(
      a.layers.map(\.kind) == [
        .conv2d, .batchnorm, .conv2d, .constants, .constants, .linear, .linear,
      ])
    #expect(
      a.tensors.map(\.role) == [
        .weight, .bias, .weight, .bias, .runningMean, .runningVar, .weight, .constant, .constant,
        .weight, .bias,
        .weight, .bias,
      ])
    for layer in a.layers where layer.kind.hasFormula {
      #expect(layer.formula?.matches == true, "\(layer.name): \(layer.formula?.problems ?? [])")
    }
    #expect(a.layers[2].formula?.text == "(3*3*(16/16))*16")
    #expect(a.layers[1].formula?.text == "2*16 + 2*16" && a.layers[1].nonTrainable == 32)
    #expect(a.layers[6].formula?.text == "(16*4)+4")
    let t = a.totals
    #expect(t.constants == 3 && t.nonTrainableBreakdown.runningStats == 32)
    #expect(t.trainable == 448 + 32 + 144 + 170 + 68)
    #expect(t.elements == t.parameters + t.constants + t.optimizerState)
    let text = TextReport.render(a)
    #expect(text.contains("opset: 17") && text.contains("Constants:"))
  }

  @Test func tiedWeightsCountOnce() throws {
    let file = WeightFile(
      path: "gpt.pt", format: .pytorchZip,
      tensors: [
        tensor("wte.weight", [100, 8]),
        tensor("lm_head.weight", [100, 8], sharedWith: "wte.weight"),
      ])
    let a = analyze(file)
    #expect(a.totals.elements == 800 && a.totals.bytes == 3_200 && a.totals.trainable == 800)
    let head = try #require(a.layers.last)
    #expect(head.parameters == 0 && head.formula?.matches == true)
    #expect(head.notes.contains { $0.contains("shares storage with wte.weight") })
    #expect(a.findings.contains { $0.code == "analysis.shared-storage" })
    let json = JSONReport.render(a, path: "gpt.pt")
    #expect(json.contains(#""sharedWith":"wte.weight""#))
  }

  @Test func unknownLayerIsAssumedTrainableAndSaid() throws {
    let file = WeightFile(
      path: "vit.pt", format: .pytorchZip,
      tensors: [
        tensor("cls_token", [1, 1, 8]), tensor("embeddings.position_ids", [1, 512], .int64),
        tensor("blocks.0.gamma", [8]),
      ])
    let a = analyze(file)
    #expect(a.tensors.map(\.rule) == [.unknownLayer, .integerDType, .unknownLayer])
    #expect(a.tensors[0].layer == "" && a.tensors[0].role == .other && a.tensors[0].trainable)
    #expect(a.totals.trainable == 16 && a.totals.nonTrainableBreakdown.buffers == 512)
    let finding = try #require(a.findings.first { $0.code == "analysis.assumed-trainable" })
    #expect(finding.severity == .info && finding.message.hasPrefix("2 tensors (16 elements)"))
    #expect(finding.message.contains("cls_token") && finding.message.contains("blocks.0.gamma"))
  }

  /// A file of thousands of layers is analyzed in halves at once; every layer must come out as
  /// it does in a small file, and the findings in layer order.
  @Test func largeFileIsAnalyzedAsItsPartsAre() throws {
    let single = analyze(
      WeightFile(
        path: "m.pt", format: .pytorchZip, tensors: mixedStateDict.map { tensor($0.0, $0.1) }))
    let copies = 400
    var tensors: [TensorInfo] = []
    for copy in 0..<copies {
      // A convolution whose bias is the wrong size, early in each half.
      if copy == 10 || copy == 390 {
        tensors += [tensor("bad\(copy).weight", [32, 3, 3, 3]), tensor("bad\(copy).bias", [16])]
      }
      tensors += mixedStateDict.map { tensor("m\(copy).\($0.0)", $0.1) }
    }
    let a = analyze(WeightFile(path: "large.pt", format: .pytorchZip, tensors: tensors))
    #expect(a.layers.count == copies * single.layers.count + 2)
    #expect(a.layers.count >= ForkJoin.worthwhile)  // Enough to be split.
    for copy in [0, 199, 200, 399] {
      let layers = a.layers.filter { $0.name.hasPrefix("m\(copy).") }
      #expect(layers.map(\.name) == single.layers.map { "m\(copy).\($0.name)" })
      #expect(layers.map(\.kind) == single.layers.map(\.kind))
      #expect(layers.map(\.parameters) == single.layers.map(\.parameters))
      #expect(layers.map { $0.formula?.text } == single.layers.map { $0.formula?.text })
      #expect(layers.map(\.notes) == single.layers.map(\.notes))
    }
    let mismatches = a.findings.filter { $0.code == "formula.mismatch" }.map(\.message)
    #expect(mismatches.count == 2)
    #expect(mismatches.first?.hasPrefix("layer bad10 (conv2d)") == true)
    #expect(mismatches.last?.hasPrefix("layer bad390 (conv2d)") == true)
    #expect(a.totals.trainable == copies * 13_040 + 2 * 880)
    #expect(a.tensors.map(\.info.name) == tensors.map(\.name))
    #expect(a.tensors.allSatisfy { $0.rule == .knownLayer })
  }

  @Test func mismatchedBiasIsAFinding() throws {
    var tensors = [tensor("c.weight", [32, 3, 3, 3]), tensor("c.bias", [16])]
    tensors += batchNorm("bn", 8).filter { !$0.name.hasSuffix(".bias") }
    let a = analyze(WeightFile(path: "bad.pt", format: .pytorchZip, tensors: tensors))
    let mismatches = a.findings.filter { $0.code == "formula.mismatch" }
    #expect(mismatches.count == 2 && mismatches.allSatisfy { $0.severity == .warning })
    #expect(mismatches[0].message.hasPrefix("layer c (conv2d): bias has shape [16], expected [32]"))
    #expect(mismatches[1].message.hasPrefix("layer bn (batchnorm): missing bias [8]"))
    #expect(a.layers[0].formula?.matches == false && a.layers[0].formula?.expected == 896)
    #expect(TextReport.render(a).contains("MISMATCH: tensors hold 880"))
  }

  @Test func optimizerStateAndFrozenWeightsAreApart() {
    let file = WeightFile(
      path: "ckpt.pt", format: .pytorchZip,
      tensors: [
        tensor("fc.weight", [4, 2], declaredTrainable: false), tensor("fc.bias", [4]),
        tensor("state.0.exp_avg", [4, 2], section: "optimizer"),
      ])
    let a = analyze(file)
    #expect(a.tensors.map(\.rule) == [.declared, .knownLayer, .optimizer])
    let t = a.totals
    #expect(t.optimizerState == 8 && t.nonTrainableBreakdown.frozen == 8 && t.trainable == 4)
    #expect(t.elements == t.parameters + t.constants + t.optimizerState)
    #expect(a.layers.map(\.kind) == [.linear, .optimizer])
  }

  @Test func jsonStringsAreEscaped() throws {
    let name = "odd \"name\"\\ with\nnewline\t\u{01} é模型"
    let a = analyze(
      WeightFile(path: name, format: .pytorchZip, tensors: [tensor(name + ".weight", [2, 2])]))
    let json = JSONReport.render(a, path: name)
    #expect(json.contains(#"odd \"name\"\\ with\nnewline\t\u0001 é模型"#))
    #expect(!json.contains("\n"))
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["file"] as? String == name)
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    #expect(tensors.first?["elements"] as? Int == 4 && tensors.first?["layer"] as? String == name)
  }
}
