import ArgumentParser

/// `weightscope`: the root command. `weightscope FILE` is `weightscope inspect FILE`.
public struct WeightScopeCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "weightscope",
    abstract: "See what is inside a neural-network weight file, without running it.",
    discussion: """
      Reads PyTorch checkpoints (.pt, .pth, .bin, .ckpt) and ONNX models by their content.
      Lists every tensor, groups tensors into layers, counts trainable and non-trainable
      parameters, and checks each count against the layer's formula.

      Exit codes: 0 success; 1 a check failed; 2 a file could not be read; 64 bad usage.
      """,
    version: "0.1.0",
    subcommands: [Inspect.self, Summary.self, Verify.self, Scan.self],
    defaultSubcommand: Inspect.self
  )

  public init() {}
}

/// Carries a command's exit status through ArgumentParser without printing anything more.
struct ExitCodeError: Error {
  var status: Int32
}

extension WeightScopeCommand {
  /// Parses `arguments`, runs the command in-process, and returns what it printed.
  ///
  /// Usage errors come back with status 64 and ArgumentParser's message on stderr.
  public static func run(_ arguments: [String]) -> CommandOutput {
    var output = CommandOutput()
    do {
      let command = try parseAsRoot(arguments)
      if let command = command as? OutputCommand {
        return command.execute()
      }
      output.print(helpMessage(for: type(of: command)))
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        output.print(message)
      } else {
        output.stderr += message + "\n"
        output.status = ExitStatus.usage
      }
    }
    return output
  }

  /// Entry point of the executable.
  public static func mainExit() -> Never {
    var arguments = CommandLine.arguments
    arguments.removeFirst()
    if let plain = Inspect.plainInvocation(arguments) {
      let output = plain.execute()
      output.flush()
      exit(withError: output.status == ExitStatus.success ? nil : ExitCode(output.status))
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      exit(withError: nil)
    } catch let error as ExitCodeError {
      exit(withError: ExitCode(error.status))
    } catch {
      exit(withError: error)
    }
  }
}
