import ArgumentParser
import Testing

@testable import WeightScopeCommands

@Suite struct PlainInspectTests {
  /// What ArgumentParser makes of `arguments`, as (files, tensors, format).
  private func parsed(_ arguments: [String]) throws -> ([String], Bool, OutputFormat)? {
    guard let command = try WeightScopeCommand.parseAsRoot(arguments) as? Inspect else {
      return nil
    }
    return (command.files, command.tensors, command.format)
  }

  @Test(arguments: [
    ["a.pt"],
    ["inspect", "a.pt"],
    ["a.pt", "b.onnx"],
    ["--tensors", "a.pt"],
    ["inspect", "a.pt", "--format", "json"],
    ["--format", "text", "--tensors", "a.pt", "b.pt"],
    ["a.pt", "--tensors", "--format", "json", "c d.pt"],
  ])
  func plainLinesMatchArgumentParser(_ arguments: [String]) throws {
    let plain = try #require(Inspect.plainInvocation(arguments))
    let expected = try #require(try parsed(arguments))
    #expect(plain.files == expected.0)
    #expect(plain.tensors == expected.1)
    #expect(plain.format == expected.2)
  }

  @Test(arguments: [
    [],
    ["inspect"],
    ["--help"],
    ["-h"],
    ["help"],
    ["inspect", "help"],
    ["--version"],
    ["--format", "yaml", "a.pt"],
    ["--format=json", "a.pt"],
    ["--format"],
    ["--format", "json", "--format", "text", "a.pt"],
    ["--tensors", "--tensors", "a.pt"],
    ["--", "a.pt"],
    ["-"],
    [""],
    ["a.pt", "inspect"],
    ["a.pt", "Inspect"],
    ["--unknown", "a.pt"],
  ])
  func otherLinesGoToArgumentParser(_ arguments: [String]) {
    #expect(Inspect.plainInvocation(arguments) == nil)
  }

  @Test func plainLinesPrintWhatTheParsedCommandPrints() throws {
    let arguments = [testModel("seed_cnn.pt"), "--tensors", testModel("small_bn.ckpt")]
    let plain = try #require(Inspect.plainInvocation(arguments))
    let output = plain.execute()
    #expect(output == WeightScopeCommand.run(arguments))
    #expect(output.stdout.contains("Trainable params:      5,852,234"))
    let json = try #require(Inspect.plainInvocation(["--format", "json", testModel("seed_cnn.onnx")]))
    #expect(json.execute() == WeightScopeCommand.run(["--format", "json", testModel("seed_cnn.onnx")]))
  }
}
