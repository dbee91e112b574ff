import Testing
import WeightScopeSpec

/// Output shapes against what torch 2 computes for the same layers.
@Suite struct ShapeTests {
  /// Each case: a Sequential, a per-sample input, and the per-sample output of each child as
  /// torch gives it (run on a batch of 2; for recurrent layers the first tensor returned).
  static let torchCases: [(String, [Int], [[Int]])] = [
    (
      "nn.Sequential(nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2), nn.Conv2d(8, 4, 3, padding='same'), nn.Conv2d(4, 4, 3, padding='valid'))",
      [3, 17, 20], [[8, 8, 16], [4, 8, 16], [4, 6, 14]]
    ),
    (
      "nn.Sequential(nn.Conv1d(2, 6, 5, stride=3), nn.BatchNorm1d(6), nn.PReLU(6), nn.MaxPool1d(3, ceil_mode=True), nn.Flatten(), nn.BatchNorm1d(24))",
      [2, 40], [[6, 12], [6, 12], [6, 12], [6, 4], [24], [24]]
    ),
    (
      "nn.Sequential(nn.Conv3d(1, 2, 3, padding=1, stride=2), nn.MaxPool3d(2, 2, 1, dilation=1), nn.AdaptiveAvgPool3d((None, 2, 3)))",
      [1, 9, 10, 11], [[2, 5, 5, 6], [2, 3, 3, 4], [2, 3, 2, 3]]
    ),
    (
      "nn.Sequential(nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), nn.ConvTranspose2d(2, 2, (2, 4), stride=(1, 3), dilation=2))",
      [4, 7, 5], [[2, 14, 10], [2, 16, 34]]
    ),
    (
      "nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.AvgPool2d(3, 2, ceil_mode=True), nn.AvgPool2d((2, 1)), nn.AdaptiveMaxPool2d(1))",
      [3, 15, 16], [[3, 8, 9], [3, 4, 4], [3, 2, 4], [3, 1, 1]]
    ),
    (
      "nn.Sequential(nn.Flatten(start_dim=2), nn.Unflatten(1, (2, -1)), nn.Flatten(2, -1), nn.Flatten(-2))",
      [6, 4, 5], [[6, 20], [2, 3, 20], [2, 60], [120]]
    ),
    (
      "nn.Sequential(nn.Upsample(scale_factor=1.5), nn.Upsample(size=(4, 9)), nn.ZeroPad2d((1, 2, 3, 4)), nn.ZeroPad2d(1), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4))",
      [4, 5, 7], [[4, 7, 10], [4, 4, 9], [4, 11, 12], [4, 13, 14], [4, 13, 14], [4, 13, 14]]
    ),
    (
      "nn.Sequential(nn.Embedding(100, 16, padding_idx=0), nn.LayerNorm(16), nn.Linear(16, 32), nn.GELU(), nn.Dropout(0.1))",
      [12], [[12, 16], [12, 16], [12, 32], [12, 32], [12, 32]]
    ),
    (
      "nn.Sequential(nn.LSTM(16, 32, 2, batch_first=True, bidirectional=True, proj_size=8))",
      [12, 16], [[12, 16]]
    ),
    (
      "nn.Sequential(nn.GRU(16, 20, batch_first=False))",
      [7, 16], [[7, 20]]
    ),
    (
      "nn.Sequential(nn.RNN(16, 20, 1, 'relu'))",
      [7, 16], [[7, 20]]
    ),
    (
      "nn.Sequential(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), nn.TransformerEncoderLayer(d_model=32, nhead=8))",
      [10, 32], [[10, 32], [10, 32]]
    ),
    (
      "nn.Sequential(nn.EmbeddingBag(50, 6, mode='sum'))",
      [9], [[6]]
    ),
    (
      "nn.Sequential(nn.Linear(5, 7), nn.Softmax(dim=-1), nn.Unflatten(-1, (7, 1)))",
      [3, 5], [[3, 7], [3, 7], [3, 7, 1]]
    ),
  ]

  @Test(arguments: torchCases.indices)
  func shapesMatchTorch(_ index: Int) throws {
    let (source, input, expected) = Self.torchCases[index]
    let spec = try SpecParser.parsePython(source)
    #expect(try outputShapes(spec, input: input).map(\.output) == expected)
  }

  @Test func recurrentArgumentsBindAsTheirClassForwards() throws {
    let spec = try SpecParser.parsePython(
      "m = nn.Sequential(nn.RNN(16, 20, 1, 'relu'), nn.LSTM(20, 8, 1, False, True, 0.0, True))")
    #expect(spec.modules[0].arguments["nonlinearity"] == "relu")
    #expect(spec.modules[1].arguments["bias"] == false)
    #expect(spec.modules[1].arguments["batch_first"] == true)
    #expect(spec.modules[1].arguments["bidirectional"] == true)
    #expect(spec.modules[1].arguments["proj_size"] == 0)
    #expect(try outputShapes(spec, input: [5, 16]).map(\.output) == [[5, 20], [5, 16]])
  }

  @Test func mismatchesNameTheLayerAndBothNumbers() throws {
    func shapeError(_ source: String, _ input: [Int]) throws -> SpecError? {
      let spec = try SpecParser.parsePython(source, file: "m.py")
      return specError { () throws(SpecError) in _ = try outputShapes(spec, input: input) }
    }
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(16))", [3, 8, 8])?
        .description
        == "m.py:1:39: BatchNorm2d `1`: num_features is 16 but its input has 8 channels (input 8x6x6)"
    )
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(1, 8, 3))", [3, 8, 8])?.message
        == "Conv2d `0`: in_channels is 1 but its input has 3 channels (input 3x8x8)")
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(3, 8, 5))", [3, 4, 4])?.message
        == "Conv2d `0`: output size 8x0x0 is too small (input 3x4x4; kernel larger than the padded input)"
    )
    #expect(try shapeError("m = nn.Sequential(nn.Conv2d(3, 8, 3))", [3, 8])?.kind == .shape)
    #expect(try shapeError("m = nn.Sequential(nn.Flatten(0))", [3, 8])?.kind == .argument)
    #expect(try shapeError("m = nn.Sequential(nn.Upsample())", [3, 8, 8])?.kind == .argument)
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding='same'))", [3, 8, 8])?
        .kind == .argument)
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(3, 8, (3, 3, 3)))", [3, 8, 8])?.kind == .argument)
    #expect(try shapeError("m = nn.Sequential(nn.Linear(4, 4), nn.Linear(5, 4))", [4])?.line == 1)
    #expect(try shapeError("m = nn.Sequential(nn.Unflatten(1, (3, 3)))", [8])?.kind == .shape)
    #expect(try shapeError("m = nn.Sequential(nn.Bilinear(3, 3, 3))", [3])?.kind == .shape)
    #expect(
      try shapeError(
        "m = nn.Sequential(nn.Linear(3, 2 ** 62), nn.Flatten(1), nn.Unflatten(1, (2 ** 62, 1)), nn.Flatten())",
        [3])?.kind == nil)
    #expect(
      try shapeError("m = nn.Sequential(nn.Conv2d(3, 2 ** 62, 1), nn.Flatten())", [3, 4, 4])?.kind
        == .value)
  }

  @Test func shapesReadInThreeSpellings() throws {
    #expect(try parseShape("3x32x32") == [3, 32, 32])
    #expect(try parseShape("3,32,32") == [3, 32, 32])
    #expect(try parseShape("[3, 32, 32]") == [3, 32, 32])
    #expect(try parseShape("(4096,)") == [4096])
    #expect(try parseShape(" 10 ") == [10])
    for bad in ["", "3x", "3xx4", "a", "3x-1", "0", "[]", "3x32x32]", "99999999999999999999"] {
      #expect(throws: ShapeTextError.self, "\(bad)") { try parseShape(bad) }
    }
  }
}
