import Foundation
import Testing
import WeightScopeSpec

/// The worked example of the seed document, read verbatim from its listing.
@Suite struct SeedSpecTests {
  let spec: Spec

  init() throws {
    spec = try SpecParser.parse(path: specPath("seed_cnn.py"))
  }

  @Test func modulesAreNumberedAsTorchNamesThem() {
    #expect(spec.modules.map(\.path) == (0...23).map(String.init))
    #expect(spec.modules.allSatisfy { $0.children.isEmpty })
    let types = spec.modules.map(\.type)
    #expect(types.filter { $0 == "Conv2d" }.count == 6)
    #expect(types.filter { $0 == "Linear" }.count == 3)
    #expect(types.filter { $0 == "BatchNorm2d" }.count == 3)
    #expect(types.filter { $0 == "MaxPool2d" }.count == 3)
    #expect(types[18] == "Flatten")
    #expect(spec.input == nil)
  }

  @Test func positionalArgumentsGetTorchNamesAndDefaults() {
    let conv = spec.modules[0]
    #expect(conv.type == "Conv2d")
    #expect(
      conv.arguments == [
        "in_channels": 3, "out_channels": 32, "kernel_size": 3, "stride": 1, "padding": 1,
        "dilation": 1, "groups": 1, "bias": true, "padding_mode": "zeros",
      ])
    #expect(conv.line == 2 && conv.column == 1)
    let pool = spec.modules[4]
    #expect(pool.arguments["kernel_size"] == 2 && pool.arguments["stride"] == 2)
    #expect(pool.arguments["padding"] == 0 && pool.arguments["ceil_mode"] == false)
    let norm = spec.modules[5]
    #expect(norm.arguments["num_features"] == 64)
    #expect(norm.arguments["eps"] == .float(1e-5) && norm.arguments["momentum"] == .float(0.1))
    #expect(norm.arguments["affine"] == true && norm.arguments["track_running_stats"] == true)
    #expect(spec.modules[18].arguments == ["start_dim": 1, "end_dim": -1])
    #expect(spec.modules[1].arguments == ["inplace": false])
  }

  @Test func arithmeticInArgumentsIsEvaluated() {
    let fc1 = spec.modules[19]
    #expect(fc1.arguments == ["in_features": 4096, "out_features": 1024, "bias": true])
    #expect(fc1.line == 21 && fc1.column == 1)
    #expect(spec.modules[23].arguments["out_features"] == 10)
  }

  @Test func shapesFollowTheDocument() throws {
    let shapes = try outputShapes(spec, input: [3, 32, 32])
    #expect(shapes.count == 24)
    #expect(shapes[0].input == [3, 32, 32] && shapes[0].output == [32, 32, 32])
    #expect(shapes[4].output == [64, 16, 16])
    #expect(shapes[10].output == [128, 8, 8])
    #expect(shapes[16].output == [256, 4, 4])
    #expect(shapes[18].output == [4096])
    #expect(shapes[19].output == [1024])
    #expect(shapes[21].output == [512])
    #expect(shapes[23].output == [10])
    #expect(shapes.map(\.path) == spec.modules.map(\.path))
  }

  @Test func theJSONSpecGivesTheSameModules() throws {
    let json = try SpecParser.parse(path: specPath("seed_cnn.json"))
    #expect(json.input == [3, 32, 32])
    #expect(json.modules.count == spec.modules.count)
    for (a, b) in zip(json.modules, spec.modules) {
      #expect(a.path == b.path)
      #expect(a.type == b.type)
      #expect(a.arguments == b.arguments, "\(a.path)")
    }
    #expect(
      try json.outputShapes().map(\.output)
        == (try spec.outputShapes(input: [3, 32, 32])).map(\.output))
  }

  @Test func aLinearThatDoesNotFitTheFlattenedShapeIsNamed() throws {
    let source = try String(contentsOfFile: specPath("seed_cnn.py"), encoding: .utf8)
      .replacingOccurrences(of: "nn.Linear(256*4*4, 1024)", with: "nn.Linear(256*4*3, 1024)")
    let broken = try SpecParser.parsePython(source, file: "seed.py")
    let error = specError { () throws(SpecError) in
      _ = try outputShapes(broken, input: [3, 32, 32])
    }
    #expect(error?.kind == .shape)
    #expect(error?.line == 21 && error?.column == 1)
    #expect(
      error?.description
        == "seed.py:21:1: Linear `19`: in_features is 3072 but its input has 4096 features (input 4096)"
    )
  }
}

@Suite struct SpecFileTests {
  @Test func unreadableFilesAreIOErrors() {
    let missing = specError { () throws(SpecError) in
      _ = try SpecParser.parse(path: specPath("absent.py"))
    }
    #expect(missing?.kind == .io)
    #expect(missing?.line == 0)
    #expect(
      missing?.description.hasSuffix("absent.py: cannot open: No such file or directory") == true)
    let directory = specError { () throws(SpecError) in _ = try SpecParser.parse(path: specPath(""))
    }
    #expect(directory?.kind == .io)
    #expect(directory?.readError.kind == .io)
  }

  @Test func specsRoundTripThroughCodable() throws {
    let spec = try SpecParser.parse(path: specPath("nested_named.json"))
    let data = try JSONEncoder().encode(spec)
    #expect(try JSONDecoder().decode(Spec.self, from: data) == spec)
  }
}
