import ArgumentParser

/// `[inspect] [--format text|json] [--tensors] FILE...`, read without ArgumentParser.
///
/// A plain value rather than an ``Inspect``: options added to `Inspect` later never reach this
/// path (a line using them goes to ArgumentParser), so none can be left uninitialized here.
struct PlainInspect: OutputCommand, Equatable {
  var files: [String]
  var tensors: Bool
  var format: OutputFormat

  func execute() -> CommandOutput {
    Inspect.list(files, tensors: tensors, format: format, budget: nil, keepLast: true)
  }
}

extension Inspect {
  /// The command for `[inspect] [--format text|json] [--tensors] FILE...`, read without
  /// ArgumentParser; nil for anything else, which ArgumentParser then reads.
  ///
  /// Listing a file costs a few milliseconds, and building ArgumentParser's description of the
  /// commands by reflection costs about as much again, so the common invocation skips it. Only
  /// arguments whose meaning is beyond doubt are taken: any other option, a repeated option, a
  /// subcommand or `help` anywhere, or an empty argument leaves the line to ArgumentParser, so
  /// that usage errors, help and new options keep their usual handling.
  static func plainInvocation(_ arguments: [String]) -> PlainInspect? {
    var rest = arguments[...]
    if rest.first == "inspect" { rest = rest.dropFirst() }
    let subcommands = WeightScopeCommand.configuration.subcommands
    var files: [String] = []
    var format: OutputFormat?
    var tensors = false
    while let argument = rest.popFirst() {
      guard !argument.isEmpty, argument != "help",
        !subcommands.contains(where: { mayName($0, argument) })
      else { return nil }
      guard argument.utf8.first == UInt8(ascii: "-") else {
        files.append(argument)
        continue
      }
      switch argument {
      case "--tensors":
        guard !tensors else { return nil }
        tensors = true
      case "--format":
        guard format == nil, let value = rest.popFirst(), let chosen = OutputFormat(rawValue: value)
        else { return nil }
        format = chosen
      default:
        return nil
      }
    }
    guard !files.isEmpty else { return nil }
    return PlainInspect(files: files, tensors: tensors, format: format ?? .text)
  }

  /// Whether `argument` may be a name of `command`: its configured name or an alias, or its
  /// type name with any separators and any case (ArgumentParser's derived names are such).
  ///
  /// Asking ArgumentParser for the derived name describes the type through runtime conformance
  /// lookups that cost a millisecond at start-up; a generous match here only sends more lines
  /// to ArgumentParser.
  private static func mayName(_ command: any ParsableCommand.Type, _ argument: String) -> Bool {
    let configuration = command.configuration
    if configuration.commandName == argument || configuration.aliases.contains(argument) {
      return true
    }
    let typeName = _typeName(command, qualified: false).lowercased()
    let folded = argument.lowercased().filter { $0 != "-" && $0 != "_" }
    return folded == typeName.filter { $0 != "-" && $0 != "_" }
  }
}
