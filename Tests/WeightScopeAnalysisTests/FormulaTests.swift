import Testing
import WeightScopeAnalysis

/// Counts checked against PyTorch 2.x: each expected value is what
/// `sum(p.numel() for p in m.parameters())` (trainable) and
/// `sum(b.numel() for b in m.buffers())` (non-trainable) print for the module in the comment.
@Suite struct FormulaTests {
  @Test func conv() throws {
    // nn.Conv2d(3, 32, 3): 896 parameters, 0 buffers
    let c = try Formula.conv(inChannels: 3, outChannels: 32, kernel: [3, 3])
    #expect(c.text == "((3*3*3)+1)*32" && c.total == 896 && c.kind == .conv2d)
    #expect(c.tensors.map(\.shape) == [[32, 3, 3, 3], [32]])
    // nn.Conv2d(64, 64, 3, groups=64): 640
    let dw = try Formula.conv(inChannels: 64, outChannels: 64, kernel: [3, 3], groups: 64)
    #expect(dw.text == "((3*3*(64/64))+1)*64" && dw.total == 640)
    #expect(dw.tensors[0].shape == [64, 1, 3, 3])
    // nn.Conv2d(64, 128, 3, groups=4, bias=False, dilation=2): 18432 (dilation has no effect)
    let g = try Formula.conv(
      inChannels: 64, outChannels: 128, kernel: [3, 3], groups: 4, bias: false)
    #expect(g.text == "(3*3*(64/4))*128" && g.total == 18_432)
    // nn.Conv1d(16, 33, 5): 2673
    let c1 = try Formula.conv(inChannels: 16, outChannels: 33, kernel: [5])
    #expect(c1.total == 2_673 && c1.kind == .conv1d && c1.text == "((5*16)+1)*33")
    // nn.Conv3d(4, 8, (3, 5, 2)): 968
    let c3 = try Formula.conv(inChannels: 4, outChannels: 8, kernel: [3, 5, 2])
    #expect(c3.total == 968 && c3.kind == .conv3d)
    #expect(throws: FormulaError.self) {
      try Formula.conv(inChannels: 10, outChannels: 8, kernel: [3], groups: 4)
    }
  }

  @Test func convTranspose() throws {
    // nn.ConvTranspose2d(16, 33, 3): 4785
    let t = try Formula.convTranspose(inChannels: 16, outChannels: 33, kernel: [3, 3])
    #expect(t.total == 4_785 && t.kind == .convtranspose2d && t.text == "(16*33*3*3)+33")
    #expect(t.tensors[0].shape == [16, 33, 3, 3])
    // nn.ConvTranspose2d(16, 32, (3, 5), groups=4): 1952
    let g = try Formula.convTranspose(inChannels: 16, outChannels: 32, kernel: [3, 5], groups: 4)
    #expect(g.total == 1_952 && g.tensors[0].shape == [16, 8, 3, 5])
    // nn.ConvTranspose1d(8, 4, 3, bias=False): 96
    #expect(
      try Formula.convTranspose(inChannels: 8, outChannels: 4, kernel: [3], bias: false).total == 96
    )
    // nn.ConvTranspose3d(4, 6, 2, groups=2): 102
    #expect(
      try Formula.convTranspose(inChannels: 4, outChannels: 6, kernel: [2, 2, 2], groups: 2).total
        == 102)
  }

  @Test func linearBilinearEmbedding() throws {
    // nn.Linear(4096, 1024): 4195328
    let l = try Formula.linear(inFeatures: 4096, outFeatures: 1024)
    #expect(l.total == 4_195_328 && l.text == "(4096*1024)+1024")
    // nn.Linear(20, 30, bias=False): 600
    let nb = try Formula.linear(inFeatures: 20, outFeatures: 30, bias: false)
    #expect(nb.total == 600 && nb.text == "20*30" && nb.tensors.map(\.name) == ["weight"])
    // nn.Bilinear(20, 30, 40): 24040
    let b = try Formula.bilinear(in1: 20, in2: 30, outFeatures: 40)
    #expect(b.total == 24_040 && b.tensors[0].shape == [40, 20, 30])
    // nn.Embedding(1000, 64) and nn.EmbeddingBag(1000, 64): 64000
    #expect(try Formula.embedding(numEmbeddings: 1000, embeddingDim: 64).total == 64_000)
    #expect(
      try Formula.embedding(numEmbeddings: 1000, embeddingDim: 64, bag: true).kind == .embeddingbag)
  }

  @Test func normalizations() throws {
    // nn.BatchNorm2d(64): 128 parameters, 129 buffers
    let bn = try Formula.batchNorm(numFeatures: 64)
    #expect(bn.trainable == 128 && bn.nonTrainable == 129 && bn.text == "2*64 + 2*64 + 1")
    // nn.BatchNorm1d(10, affine=False): 0 parameters, 21 buffers
    let na = try Formula.batchNorm(numFeatures: 10, affine: false)
    #expect(na.trainable == 0 && na.nonTrainable == 21)
    // nn.BatchNorm3d(8, track_running_stats=False): 16, 0
    let nt = try Formula.batchNorm(numFeatures: 8, trackRunningStats: false)
    #expect(nt.trainable == 16 && nt.nonTrainable == 0)
    // nn.LayerNorm([10, 12]): 240
    let ln = try Formula.layerNorm(normalizedShape: [10, 12])
    #expect(ln.total == 240 && ln.text == "2*(10*12)" && ln.tensors[0].shape == [10, 12])
    // nn.LayerNorm(64, bias=False): 64; nn.LayerNorm(64, elementwise_affine=False): 0
    #expect(try Formula.layerNorm(normalizedShape: [64], bias: false).total == 64)
    #expect(try Formula.layerNorm(normalizedShape: [64], elementwiseAffine: false).total == 0)
    // nn.GroupNorm(4, 64): 128
    #expect(try Formula.groupNorm(numGroups: 4, numChannels: 64).total == 128)
    // nn.InstanceNorm2d(64): 0, 0
    #expect(try Formula.instanceNorm(numFeatures: 64).total == 0)
    // nn.InstanceNorm2d(64, affine=True, track_running_stats=True): 128, 129
    let inorm = try Formula.instanceNorm(numFeatures: 64, affine: true, trackRunningStats: true)
    #expect(inorm.trainable == 128 && inorm.nonTrainable == 129 && inorm.kind == .instancenorm)
    // nn.RMSNorm(64): 64
    #expect(try Formula.rmsNorm(normalizedShape: [64]).total == 64)
    // nn.PReLU(): 1; nn.PReLU(64): 64
    #expect(try Formula.prelu().total == 1)
    #expect(try Formula.prelu(numParameters: 64).total == 64)
    #expect(Formula.parameterless.total == 0 && Formula.parameterless.text == "0")
  }

  @Test func recurrent() throws {
    // nn.RNN(10, 20, 2): 1480
    #expect(try Formula.recurrent(.rnn, inputSize: 10, hiddenSize: 20, numLayers: 2).total == 1_480)
    // nn.LSTM(10, 20, 2, bidirectional=True): 15040
    let lstm = try Formula.recurrent(
      .lstm, inputSize: 10, hiddenSize: 20, numLayers: 2, bidirectional: true)
    #expect(lstm.total == 15_040)
    #expect(lstm.text == "2*4*20*(10+20+2) + 2*4*20*(40+20+2)")
    #expect(lstm.tensors.count == 16 && lstm.tensors[4].name == "weight_ih_l0_reverse")
    // nn.LSTM(10, 20, 2, proj_size=5): 2520
    #expect(
      try Formula.recurrent(.lstm, inputSize: 10, hiddenSize: 20, numLayers: 2, projSize: 5).total
        == 2_520)
    // nn.LSTM(10, 20, 1, bias=False, proj_size=5, bidirectional=True): 2600, with
    // weight_hh_l0 [80, 5] and weight_hr_l0 [5, 20]
    let p = try Formula.recurrent(
      .lstm, inputSize: 10, hiddenSize: 20, bias: false, bidirectional: true, projSize: 5)
    #expect(p.total == 2_600)
    #expect(
      p.tensors.map(\.name) == [
        "weight_ih_l0", "weight_hh_l0", "weight_hr_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "weight_hr_l0_reverse",
      ])
    #expect(p.tensors[1].shape == [80, 5] && p.tensors[2].shape == [5, 20])
    // nn.GRU(10, 20, 3, bidirectional=True): 18720
    #expect(
      try Formula.recurrent(.gru, inputSize: 10, hiddenSize: 20, numLayers: 3, bidirectional: true)
        .total == 18_720)
  }

  @Test func attentionAndTransformerLayers() throws {
    // nn.MultiheadAttention(512, 8): 1050624
    let mha = try Formula.multiheadAttention(embedDim: 512)
    #expect(mha.total == 1_050_624)
    #expect(
      mha.tensors.map(\.name) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
      ])
    // nn.MultiheadAttention(64, 4, kdim=32, vdim=48, add_bias_kv=True): 13696
    let kv = try Formula.multiheadAttention(embedDim: 64, kdim: 32, vdim: 48, addBiasKV: true)
    #expect(kv.total == 13_696)
    #expect(kv.tensors.first { $0.name == "k_proj_weight" }?.shape == [64, 32])
    // nn.MultiheadAttention(64, 4, bias=False): 16384
    #expect(try Formula.multiheadAttention(embedDim: 64, bias: false).total == 16_384)
    // nn.TransformerEncoderLayer(512, 8): 3152384
    #expect(try Formula.transformerEncoderLayer(dModel: 512).total == 3_152_384)
    // nn.TransformerDecoderLayer(512, 8, dim_feedforward=1024): 3154432
    #expect(
      try Formula.transformerDecoderLayer(dModel: 512, dimFeedforward: 1024).total == 3_154_432)
    // nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, bias=False): 32896
    #expect(
      try Formula.transformerEncoderLayer(dModel: 64, dimFeedforward: 128, bias: false).total
        == 32_896)
    // nn.TransformerDecoderLayer(8, 2, dim_feedforward=16).state_dict() holds 18 tensors
    #expect(try Formula.transformerDecoderLayer(dModel: 8, dimFeedforward: 16).tensors.count == 18)
  }

  @Test func overflowIsAnErrorNotATrap() {
    #expect(throws: FormulaError(.overflow, "the product of [3037000500, 3037000500] overflows")) {
      try Formula.linear(inFeatures: 3_037_000_500, outFeatures: 3_037_000_500)
    }
  }
}
