/// An argument as written in a call: its value and where it stands.
struct WrittenArgument: Sendable {
  /// The keyword, or nil for a positional argument.
  var keyword: String?
  var value: SpecValue
  var position: SourcePosition
}

extension LayerSignature {
  /// Binds `arguments` to this constructor's parameters as Python would, filling in defaults.
  ///
  /// - Throws: `.argument` for too many positional arguments, an unknown or repeated keyword,
  ///   or a missing required argument, located at the offending argument (or at `call`).
  func bind(
    _ arguments: [WrittenArgument], call: SourcePosition, file: String
  ) throws(SpecError) -> [String: SpecValue] {
    func fail(_ position: SourcePosition, _ message: String) -> SpecError {
      SpecError(.argument, file: file, line: position.line, column: position.column, message)
    }
    if ignoresArguments { return [:] }
    var bound: [String: SpecValue] = [:]
    let positional = positional
    var index = 0
    var seenKeyword = false
    for argument in arguments {
      if let keyword = argument.keyword {
        seenKeyword = true
        guard parameter(named: keyword) != nil else {
          let names = parameters.map(\.name).filter { !$0.hasPrefix("_") }
          let expected =
            names.isEmpty
            ? "it takes no arguments" : "expected one of " + names.joined(separator: ", ")
          throw fail(argument.position, "\(type) has no argument `\(keyword)`; \(expected)")
        }
        guard bound[keyword] == nil else {
          throw fail(argument.position, "\(type) got multiple values for argument `\(keyword)`")
        }
        bound[keyword] = argument.value
      } else {
        guard !seenKeyword else {
          throw fail(argument.position, "positional argument follows keyword argument")
        }
        guard index < positional.count else {
          let given = arguments.filter { $0.keyword == nil }.count
          let plural = positional.count == 1 ? "" : "s"
          throw fail(
            argument.position,
            "\(type) takes at most \(positional.count) positional argument\(plural) but \(given)"
              + " were given")
        }
        bound[positional[index].name] = argument.value
        index += 1
      }
    }
    for parameter in parameters where bound[parameter.name] == nil {
      switch parameter.defaultValue {
      case .required:
        throw fail(call, "\(type) is missing required argument `\(parameter.name)`")
      case .value(let value): bound[parameter.name] = value
      case .omitted: break
      }
    }
    return bound
  }
}
