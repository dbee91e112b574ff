import Testing
import WeightScopeSpec

/// The signature table against torch's own signatures, and the layers a spec must cover.
@Suite struct LayerSignatureTests {
  /// A signature in the spelling of `torch-signatures.txt`.
  func render(_ signature: LayerSignature) -> String {
    if signature.ignoresArguments || signature.shapeRule == .sequential {
      return "\(signature.type)(...)"
    }
    var parts: [String] = []
    var keywordOnly = false
    for parameter in signature.parameters {
      if parameter.keywordOnly && !keywordOnly {
        parts.append("*")
        keywordOnly = true
      }
      switch parameter.defaultValue {
      case .required: parts.append(parameter.name)
      case .omitted: parts.append(parameter.name + "?")
      case .value(let value): parts.append("\(parameter.name)=\(value)")
      }
    }
    return "\(signature.type)(" + parts.joined(separator: ", ") + ")"
  }

  @Test func everySignatureMatchesTorch() throws {
    let text = try String(contentsOfFile: specPath("torch-signatures.txt"), encoding: .utf8)
    let expected = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
    let table = LayerSignatures.knownTypes.compactMap(LayerSignatures.signature(of:)).map(render)
    #expect(table.count == expected.count)
    for (ours, torch) in zip(table, expected.sorted()) {
      #expect(ours == torch)
    }
  }

  @Test func theRequiredLayersAreKnown() {
    let required = """
      Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d Linear Bilinear
      Embedding EmbeddingBag BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm GroupNorm
      InstanceNorm1d InstanceNorm2d InstanceNorm3d RMSNorm RNN LSTM GRU MultiheadAttention
      TransformerEncoderLayer TransformerDecoderLayer PReLU ReLU ReLU6 LeakyReLU GELU SiLU
      Sigmoid Tanh Softmax Hardswish Hardsigmoid MaxPool1d MaxPool2d MaxPool3d AvgPool1d
      AvgPool2d AvgPool3d AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool2d
      Flatten Unflatten Dropout Dropout2d Identity Upsample ZeroPad2d Sequential
      """.split(whereSeparator: \.isWhitespace).map(String.init)
    for type in required {
      #expect(LayerSignatures.signature(of: type) != nil, "\(type)")
    }
  }

  @Test func pythonArithmeticFollowsPython() throws {
    // Values from CPython for the same expressions.
    let cases: [(String, SpecValue)] = [
      ("-7 // 2", -4), ("7 // -2", -4), ("-7 % 3", 2), ("7 % -3", -2), ("7 / 2", 3.5),
      ("2 ** 10", 1024), ("-2 ** 2", -4), ("2 ** -1", 0.5), ("(1 + 2) * 3", 9),
      ("1_000 * 4", 4000), ("0x10 + 0b11 + 0o7", 26), ("3 * 1.5", 4.5), ("7.5 // 2", 3.0),
      ("-7.5 % 2", 0.5), ("2 * 3 ** 2", 18), ("10 - 2 - 3", 5), ("+4", 4), ("1e-5", 1e-5),
      ("4.", 4.0), (".5", 0.5),
    ]
    for (expression, expected) in cases {
      let spec = try SpecParser.parsePython("m = nn.Sequential(nn.Dropout(\(expression)))")
      #expect(spec.modules[0].arguments["p"] == expected, "\(expression)")
    }
  }

  @Test func constantsCarryAcrossStatements() throws {
    let spec = try SpecParser.parsePython(
      """
      import torch
      channels = 3; width = 64 * 2
      kernel = (3, 3)
      name = "same"
      model = nn.Sequential(
          nn.Conv2d(channels, width, kernel, padding=name, padding_mode='re' 'flect'),
          nn.LayerNorm([width, 8, 8], eps=1e-6),
          nn.TransformerEncoderLayer(8, 2, activation=F.gelu),
      )
      """)
    let conv = spec.modules[0]
    #expect(conv.arguments["in_channels"] == 3 && conv.arguments["out_channels"] == 128)
    #expect(conv.arguments["kernel_size"] == .tuple([3, 3]))
    #expect(conv.arguments["padding"] == "same" && conv.arguments["padding_mode"] == "reflect")
    #expect(spec.modules[1].arguments["normalized_shape"] == .tuple([128, 8, 8]))
    #expect(spec.modules[1].arguments["eps"] == .float(1e-6))
    #expect(spec.modules[2].arguments["activation"] == "gelu")
    let error = specError { () throws(SpecError) in _ = try outputShapes(spec, input: [3, 8, 8]) }
    #expect(
      error?.description
        == "<python>:8:5: TransformerEncoderLayer `2`: expects (sequence length, d_model), but its"
        + " input is 128x8x8 (3-d)")

    let conditional = pythonError("m = nn.Sequential(nn.ReLU() if True else nn.Tanh())")
    #expect(conditional.map { [$0.line, $0.column] } == [1, 29])
    #expect(conditional?.message.contains("conditionals are not supported") == true)
  }
}
