import Testing
import WeightScopeSpec

/// Module paths as `named_modules()` gives them for nested and `OrderedDict` Sequentials.
@Suite struct NamingTests {
  @Test func nestedAndNamedSequentialsGetTorchPaths() throws {
    let spec = try SpecParser.parse(path: specPath("nested_named.py"))
    // [n for n, _ in model.named_modules()][1:] from torch 2 for the same file.
    #expect(
      spec.allModules.map(\.path) == [
        "features", "features.0", "features.1", "features.2", "features.3", "pool", "flatten",
        "classifier", "classifier.fc1", "classifier.act", "classifier.drop", "classifier.fc2",
      ])
    let fc1 = try #require(spec.allModules.first { $0.path == "classifier.fc1" })
    #expect(fc1.arguments["in_features"] == 784)  // 16 * 7 * 7
    #expect(fc1.arguments["out_features"] == 128)  // `hidden`, bound earlier
    #expect(fc1.name == "fc1")
    let fc2 = try #require(spec.allModules.first { $0.path == "classifier.fc2" })
    #expect(fc2.arguments == ["in_features": 128, "out_features": 10, "bias": false])
    let features = try #require(spec.modules.first)
    #expect(features.line == 9 && features.column == 12)
    #expect(features.children[0].arguments["kernel_size"] == 3)
    #expect(features.children[0].arguments["padding"] == 1)
    #expect(features.children[2].arguments["inplace"] == true)

    let shapes = try outputShapes(spec, input: [3, 28, 28])
    #expect(shapes.map(\.path) == spec.allModules.map(\.path))
    let byPath = Dictionary(uniqueKeysWithValues: shapes.map { ($0.path, $0.output) })
    #expect(byPath["features.0"] == [16, 28, 28])
    #expect(byPath["features"] == [16, 14, 14])
    #expect(byPath["pool"] == [16, 7, 7])
    #expect(byPath["flatten"] == [784])
    #expect(byPath["classifier"] == [10])
  }

  @Test func indexedSequentialsNestWithDots() throws {
    let spec = try SpecParser.parsePython(
      """
      from torch import nn
      model = nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()),
        torch.nn.Sequential(
          Sequential(nn.Flatten()),
          nn.Linear(4 * 26 * 26, 10,),  # trailing comma
        ),
      )
      """)
    #expect(spec.allModules.map(\.path) == ["0", "0.0", "0.1", "1", "1.0", "1.0.0", "1.1"])
    #expect(try outputShapes(spec, input: [1, 28, 28]).last?.output == [10])
  }

  @Test func laterOrderedDictKeysReplaceEarlierOnesInPlace() throws {
    let spec = try SpecParser.parsePython(
      """
      import collections
      model = nn.Sequential(collections.OrderedDict([
        ("a", nn.ReLU()), ("b", nn.Tanh()), ("a", nn.GELU()),
      ]))
      """)
    #expect(spec.modules.map(\.path) == ["a", "b"])
    #expect(spec.modules.map(\.type) == ["GELU", "Tanh"])
    #expect(pythonError("m = nn.Sequential(OrderedDict([('x.y', nn.ReLU())]))")?.kind == .argument)
  }

  @Test func theLastSequentialIsTheModel() throws {
    let spec = try SpecParser.parsePython(
      """
      '''A docstring.'''
      import torch.nn as nn
      encoder = nn.Sequential(nn.Linear(8, 4))
      act = nn.ReLU()
      decoder = nn.Sequential(nn.Linear(4, 8))
      model = nn.Sequential(encoder, act, decoder); width = 3
      """)
    #expect(spec.allModules.map(\.path) == ["0", "0.0", "1", "2", "2.0"])
    #expect(spec.modules[1].line == 4 && spec.modules[1].column == 7)
    let bare = try SpecParser.parsePython(
      "nn.Sequential(nn.Identity(54, unused_argument_name=0.1))")
    #expect(bare.modules.map(\.type) == ["Identity"])
    #expect(bare.modules[0].arguments.isEmpty)
  }
}
