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
  /// Standard output, as the bytes that will be written: a JSON document of a hundred
  /// thousand tensors is kept as it was made, never converted to a string and back.
  public var stdoutBytes: [UInt8] = []
  public var stderr = ""
  public var status: Int32 = ExitStatus.success

  public init() {}

  /// Standard output as text.
  public var stdout: String {
    get { String(decoding: stdoutBytes, as: UTF8.self) }
    set { stdoutBytes = Array(newValue.utf8) }
  }

  /// Appends a line to standard output.
  public mutating func print(_ line: String) {
    write(line)
    stdoutBytes.append(0x0A)
  }

  /// Appends a line of UTF-8 bytes to standard output.
  public mutating func print(utf8 line: [UInt8]) {
    write(utf8: line)
    stdoutBytes.append(0x0A)
  }

  /// Appends UTF-8 bytes to standard output, taking the array itself when nothing is there yet.
  public mutating func write(utf8 bytes: [UInt8]) {
    if stdoutBytes.isEmpty {
      stdoutBytes = bytes
    } else {
      stdoutBytes.append(contentsOf: bytes)
    }
  }

  /// Appends `text` to standard output as it is.
  public mutating func write(_ text: String) {
    var text = text
    text.withUTF8 { stdoutBytes.append(contentsOf: $0) }
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
    stdoutBytes.withUnsafeBufferPointer { write($0, to: STDOUT_FILENO) }
    var text = stderr
    text.withUTF8 { write($0, to: STDERR_FILENO) }
  }

  private func write(_ bytes: UnsafeBufferPointer<UInt8>, to fd: Int32) {
    var done = 0
    while done < bytes.count {
      let written = Glibc.write(fd, bytes.baseAddress?.advanced(by: done), bytes.count - done)
      if written <= 0 { return }
      done += written
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
