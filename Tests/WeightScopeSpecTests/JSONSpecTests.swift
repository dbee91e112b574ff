import Testing
import WeightScopeSpec

/// JSON specs: the same modules as the Python they describe, strict about everything else.
@Suite struct JSONSpecTests {
  func jsonError(_ text: String) -> SpecError? {
    specError { () throws(SpecError) in _ = try SpecParser.parseJSON(text, file: "m.json") }
  }

  /// Path, type and arguments of every module (positions differ between the two forms).
  func outline(_ spec: Spec) -> [String] {
    spec.allModules.map { module in
      let arguments = module.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
      return "\(module.path) \(module.type) " + arguments.joined(separator: " ")
    }
  }

  @Test func namedLayersMatchTheirPythonTwin() throws {
    let json = try SpecParser.parse(path: specPath("nested_named.json"))
    let python = try SpecParser.parse(path: specPath("nested_named.py"))
    #expect(outline(json) == outline(python))
    #expect(json.input == [3, 28, 28])
    #expect(
      try json.outputShapes().map(\.output)
        == (try python.outputShapes(input: [3, 28, 28])).map(\.output))
    let features = try #require(json.modules.first)
    #expect(features.line == 5 && features.column == 5)
    #expect(features.children[0].line == 6 && features.children[0].column == 7)
  }

  @Test func contentDecidesTheFormWithoutAnExtension() throws {
    let json = try SpecParser.parse(" {\"layers\": [{\"type\": \"ReLU\"}]}", file: "spec")
    #expect(json.modules.map(\.type) == ["ReLU"])
    let python = try SpecParser.parse("nn.Sequential(nn.ReLU())", file: "spec")
    #expect(
      python.modules
        == json.modules.map {
          var m = $0; m.line = 1; m.column = 15; return m
        })
  }

  @Test func mistakesAreLocated() {
    #expect(
      jsonError(
        "{\"layers\": [\n  {\"type\": \"Conv2d\", \"args\": [3, 8, 3], \"kwargs\": {\"strides\": 2}}\n]}"
      )?
      .description.hasPrefix("m.json:2:52: Conv2d has no argument `strides`") == true)
    #expect(jsonError("{\"layers\": [{\"type\": \"Conv2D\"}]}")?.kind == .unknownLayer)
    #expect(
      jsonError("{\"layers\": [{\"type\": \"Conv2D\"}]}").map { [$0.line, $0.column] } == [1, 22])
    #expect(
      jsonError("{\"layers\": [{\"args\": [1]}]}")?.message.hasPrefix("a layer needs a \"type\"")
        == true)
    #expect(
      jsonError("{\"layers\": [{\"type\": \"ReLU\",}]}").map { [$0.line, $0.column] } == [1, 29])
    #expect(jsonError("{\"layers\": [], \"layers\": []}")?.message == "duplicate key \"layers\"")
    #expect(
      jsonError("{\"layer\": []}")?.message.hasPrefix("unknown key \"layer\" in the spec") == true)
    #expect(jsonError("{\"input\": [3, 32, 32]}")?.message == "the spec has no \"layers\" array")
    #expect(
      jsonError(
        "{\"layers\": [{\"type\": \"ReLU\", \"name\": \"a\"}, {\"type\": \"Tanh\", \"name\": \"a\"}]}"
      )?
      .message == "two layers are named \"a\"")
    #expect(
      jsonError("{\"layers\": [{\"type\": \"Linear\", \"args\": [{}, 2]}]}")?.kind == .argument)
    #expect(
      jsonError("{\"layers\": [{\"type\": \"Linear\", \"args\": [3]}]}")?.message
        == "Linear is missing required argument `out_features`")
    #expect(
      jsonError("{\"layers\": [{\"type\": \"ReLU\", \"layers\": []}]}")?.message
        == "only a Sequential has \"layers\"")
    #expect(jsonError("{\"input\": [3, 0], \"layers\": []}")?.kind == .value)
    #expect(
      jsonError("{\"layers\": [\"ReLU\"]}")?.message == "a layer must be an object, not a string")
    #expect(jsonError("{\"layers\": []} x")?.message == "unexpected text after the JSON value")
    #expect(jsonError(String(repeating: "[", count: 1000))?.kind == .limitExceeded)
    #expect(
      jsonError("{\"layers\": [{\"type\": \"Linear\", \"args\": [1e999, 2]}]}")?.kind == .syntax)
  }

  @Test func keywordsMayComeBeforeArgumentsInTheObject() throws {
    let spec = try SpecParser.parseJSON(
      "{\"layers\": [{\"kwargs\": {\"bias\": false}, \"args\": [4, 2], \"type\": \"Linear\"}]}")
    #expect(spec.modules[0].arguments == ["in_features": 4, "out_features": 2, "bias": false])
  }

  @Test func stringsDecodeEscapes() throws {
    let spec = try SpecParser.parseJSON(
      #"{"layers": [{"type": "GELU", "kwargs": {"approximate": "t\u0061nh"}, "comment": "\ud83d\ude00 \n"}]}"#
    )
    #expect(spec.modules[0].arguments["approximate"] == "tanh")
  }
}

/// Every prefix of a valid spec is read or refused with an error; none traps.
@Suite struct TruncationTests {
  @Test(arguments: ["seed_cnn.py", "seed_cnn.json", "nested_named.py", "nested_named.json"])
  func everyPrefixThrowsOrParses(_ name: String) throws {
    let text = try String(contentsOfFile: specPath(name), encoding: .utf8)
    let bytes = Array(text.utf8)
    var refused = 0
    for end in 0..<bytes.count {
      let prefix = String(decoding: bytes[..<end], as: UTF8.self)
      do {
        let spec = try SpecParser.parse(prefix, file: name)
        if let input = spec.input { _ = try? outputShapes(spec, input: input) }
      } catch {
        refused += 1
        #expect(error.line >= 0 && error.column >= 0)
      }
    }
    #expect(refused > bytes.count / 2)
  }
}
