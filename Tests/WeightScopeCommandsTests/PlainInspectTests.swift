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

  /// The plain command runs (every option it skips parsing, budgets included, has its default)
  /// and prints what the ArgumentParser route prints.
  @Test(arguments: [[], ["--tensors"], ["--format", "json"]])
  func plainCommandRunsLikeParsedOne(_ options: [String]) throws {
    let file = testModel("seed_cnn.pt")
    let plain = try #require(Inspect.plainInvocation(options + [file]))
    let output = plain.execute()
    #expect(output.status == 0)
    #expect(output.stdout.contains("5,852,234") || output.stdout.contains("5852234"))
    #expect(output == WeightScopeCommand.run(["inspect"] + options + ["--", file]))
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
}
