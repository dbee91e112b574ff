import WeightScopeCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a command printed and how it ended, collected so that tests can run commands in-process.
public struct CommandOutput: Sendable, Equatable {
  public var stdout = ""
  public var stderr = ""
  public var status: Int32 = ExitStatus.success

  public init() {}

  /// Appends a line to standard output.
  public mutating func print(_ line: String) {
    stdout += line
    stdout += "\n"
  }

  /// Appends `weightscope: message` to standard error.
  public mutating func error(_ message: String) {
    stderr += "weightscope: \(message)\n"
  }

  /// Raises the exit status to `status` if it is more severe than the current one.
  public mutating func fail(_ status: Int32) {
    if status == ExitStatus.unreadable || self.status == ExitStatus.success {
      self.status = max(self.status, status)
    }
  }

  /// Writes both streams to the process's standard output and error.
  public func flush() {
    write(stdout, to: STDOUT_FILENO)
    write(stderr, to: STDERR_FILENO)
  }

  private func write(_ text: String, to fd: Int32) {
    var text = text
    text.withUTF8 { bytes in
      var done = 0
      while done < bytes.count {
        let written = Glibc.write(fd, bytes.baseAddress?.advanced(by: done), bytes.count - done)
        if written <= 0 { return }
        done += written
      }
    }
  }
}

/// A command whose work is a function from its parsed arguments to a ``CommandOutput``.
public protocol OutputCommand {
  func execute() -> CommandOutput
}

extension OutputCommand {
  /// Runs the command, prints what it produced, and exits with its status.
  func runAndExit() throws {
    let output = execute()
    output.flush()
    if output.status != ExitStatus.success {
      throw ExitCodeError(status: output.status)
    }
  }
}

extension CommandOutput {
  /// Reports that `path` could not be read: one line, `weightscope: FILE: context at 0x1a3f: message`.
  public mutating func unreadable(_ path: String, _ error: ReadError) {
    if error.context.isEmpty, let offset = error.offset {
      self.error("\(path) at \(hex(offset)): \(error.message)")
    } else {
      self.error("\(path): \(error)")
    }
    fail(ExitStatus.unreadable)
  }
}
