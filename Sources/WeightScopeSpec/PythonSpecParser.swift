/// A value computed while reading Python source, with where it was written.
private struct Located {
  indirect enum Value {
    case constant(SpecValue)
    case module(SpecModule)
    /// A tuple or list whose items are not all constants (modules, `(name, module)` pairs).
    case items([Located])
    case orderedDict([(String, SpecModule)])
  }

  var value: Value
  var position: SourcePosition
}

/// Reads the `nn.Sequential(...)` a Python file builds, evaluating the subset of Python that
/// such a listing uses, without running anything.
///
/// Statements: `import ...` and `from ... import ...` (ignored), `name = expression` and bare
/// expressions. Expressions: int, float, string, `True`/`False`/`None` literals, tuples, lists,
/// `+ - * / // % **`, unary `-`/`+`, names bound earlier, calls of `torch.nn` layers (spelled
/// `nn.X`, `torch.nn.X` or `X`), `nn.Sequential`, and `OrderedDict([...])`. A function of
/// `torch.nn.functional` named as a value (`F.gelu`) reads as its name, `"gelu"`.
struct PythonSpecParser {
  private let tokens: [PythonToken]
  private let file: String
  private let maxNesting: Int
  private var index = 0
  private var depth = 0
  private var names: [String: Located] = [:]
  private var model: SpecModule?

  static func parse(_ text: String, file: String, maxNesting: Int) throws(SpecError) -> Spec {
    let tokens = PythonTokenizer.tokenize(text, file: file, maxNesting: maxNesting)
    var parser = PythonSpecParser(tokens: tokens, file: file, maxNesting: maxNesting)
    return try parser.module()
  }

  private init(tokens: [PythonToken], file: String, maxNesting: Int) {
    self.tokens = tokens
    self.file = file
    self.maxNesting = maxNesting
  }

  // MARK: Tokens

  private var current: PythonToken {
    index < tokens.count ? tokens[index] : PythonToken(kind: .end, position: endPosition)
  }

  private var endPosition: SourcePosition {
    tokens.last?.position ?? SourcePosition(line: 1, column: 1)
  }

  private mutating func next() -> PythonToken {
    let token = current
    if index < tokens.count { index += 1 }
    return token
  }

  private func isOp(_ op: String) -> Bool { current.kind == .op(op) }

  private func isName(_ name: String) -> Bool { current.kind == .name(name) }

  private mutating func accept(_ op: String) -> Bool {
    guard isOp(op) else { return false }
    index += 1
    return true
  }

  private mutating func expect(_ op: String, _ context: String) throws(SpecError) {
    guard accept(op) else { throw unexpected("expected `\(op)` \(context)") }
  }

  private func error(_ kind: SpecError.Kind, _ at: SourcePosition, _ message: String) -> SpecError {
    SpecError(kind, file: file, line: at.line, column: at.column, message)
  }

  /// An error at the current token: `expected ..., found ...`, with a hint for constructs
  /// outside the subset.
  private func unexpected(_ expected: String) -> SpecError {
    let token = current
    if case .error(let error) = token.kind { return error }
    var message = "\(expected), found \(token.spelling)"
    if case .name(let name) = token.kind, let hint = Self.unsupported(name) {
      message = "\(expected), found `\(name)`: \(hint)"
    }
    return error(.syntax, token.position, message)
  }

  private static let subsetNote = "only nn.Sequential(...) listings are read, no Python is run"
  private static let unsupportedKeywords: [String: String] = [
    "class": "class definitions are not supported",
    "def": "function definitions are not supported",
    "for": "loops and comprehensions are not supported",
    "while": "loops are not supported",
    "if": "conditionals are not supported",
    "else": "conditionals are not supported",
    "lambda": "lambdas are not supported",
    "with": "`with` blocks are not supported",
    "try": "`try` blocks are not supported",
    "return": "`return` is not supported",
    "async": "`async` is not supported",
    "await": "`await` is not supported",
    "yield": "`yield` is not supported",
    "del": "`del` is not supported",
    "global": "`global` is not supported",
    "nonlocal": "`nonlocal` is not supported",
    "assert": "`assert` is not supported",
    "raise": "`raise` is not supported",
    "pass": "`pass` is not supported",
    "not": "boolean operators are not supported",
    "and": "boolean operators are not supported",
    "or": "boolean operators are not supported",
    "in": "comprehensions are not supported",
    "is": "comparisons are not supported",
  ]

  /// The message for a keyword outside the subset.
  private static func unsupported(_ keyword: String) -> String? {
    unsupportedKeywords[keyword].map { "\($0); " + subsetNote }
  }

  // MARK: Statements

  private mutating func module() throws(SpecError) -> Spec {
    while current.kind != .end {
      if current.kind == .newline || isOp(";") {
        index += 1
        continue
      }
      try statement()
      guard current.kind == .newline || current.kind == .end || isOp(";") else {
        throw unexpected("expected end of statement")
      }
    }
    guard let model else {
      throw error(.syntax, endPosition, "no nn.Sequential(...) found; " + Self.subsetNote)
    }
    return Spec(modules: Self.named(model.children, prefix: ""), input: nil, file: file)
  }

  private mutating func statement() throws(SpecError) {
    let token = current
    if case .error(let error) = token.kind { throw error }
    if case .name(let word) = token.kind {
      if word == "import" { return try importStatement() }
      if word == "from" { return try fromImportStatement() }
      if let hint = Self.unsupported(word) {
        throw error(.syntax, token.position, hint)
      }
      if index + 1 < tokens.count, tokens[index + 1].kind == .op("=") {
        index += 2
        let value = try expression()
        if case .module(let module) = value.value, module.type == "Sequential" { model = module }
        names[word] = value
        return
      }
    }
    if let target = assignmentTarget() {
      throw error(.syntax, target, "only assignments to a plain name are supported")
    }
    let value = try expression()
    if isOp("=") || isOp(":") {
      throw error(.syntax, value.position, "only assignments to a plain name are supported")
    }
    if case .op(let op) = current.kind, op.hasSuffix("="), op != "==" {
      throw error(.syntax, current.position, "augmented assignment `\(op)` is not supported")
    }
    if case .module(let module) = value.value, module.type == "Sequential" { model = module }
  }

  /// The start of a statement that assigns to something other than a plain name
  /// (`self.model = ...`, `a, b = ...`, `x: int = ...`), or nil.
  private func assignmentTarget() -> SourcePosition? {
    var depth = 0
    var at = index
    while at < tokens.count {
      switch tokens[at].kind {
      case .newline, .end, .error: return nil
      case .op(let op):
        if op == "(" || op == "[" || op == "{" { depth += 1 }
        if op == ")" || op == "]" || op == "}" { depth -= 1 }
        if op == ";" && depth == 0 { return nil }
        if op == "=" && depth == 0 { return current.position }
      default: break
      }
      at += 1
    }
    return nil
  }

  /// `import a.b [as c], ...`: accepted and ignored.
  private mutating func importStatement() throws(SpecError) {
    index += 1
    repeat {
      try dottedModuleName()
      if isName("as") {
        index += 1
        try plainName("a name after `as`")
      }
    } while accept(",")
  }

  /// `from a.b import c [as d], ...` or `from a import (c, d)` or `*`: accepted and ignored.
  private mutating func fromImportStatement() throws(SpecError) {
    index += 1
    while accept(".") {}
    try dottedModuleName()
    guard isName("import") else { throw unexpected("expected `import`") }
    index += 1
    if accept("*") { return }
    let parenthesized = accept("(")
    repeat {
      if parenthesized && isOp(")") { break }
      try plainName("a name to import")
      if isName("as") {
        index += 1
        try plainName("a name after `as`")
      }
    } while accept(",")
    if parenthesized { try expect(")", "to close the import list") }
  }

  private mutating func dottedModuleName() throws(SpecError) {
    try plainName("a module name")
    while accept(".") { try plainName("a module name after `.`") }
  }

  @discardableResult
  private mutating func plainName(_ what: String) throws(SpecError) -> String {
    guard case .name(let name) = current.kind else { throw unexpected("expected \(what)") }
    index += 1
    return name
  }

  // MARK: Expressions

  private mutating func nested<T>(
    _ body: (inout PythonSpecParser) throws(SpecError) -> T
  ) throws(SpecError) -> T {
    guard depth < maxNesting else {
      throw error(.limitExceeded, current.position, "expression nested deeper than \(maxNesting)")
    }
    depth += 1
    defer { depth -= 1 }
    return try body(&self)
  }

  /// `expression := term (('+' | '-') term)*`
  private mutating func expression() throws(SpecError) -> Located {
    try nested { (parser: inout PythonSpecParser) throws(SpecError) -> Located in
      var left = try parser.term()
      while case .op(let op) = parser.current.kind, op == "+" || op == "-" {
        let at = parser.next().position
        let right = try parser.term()
        left = try parser.arithmetic(op, left, right, at: at)
      }
      if parser.isName("if") || parser.isName("for") || parser.isName("and")
        || parser.isName("or") || parser.isName("not") || parser.isName("in")
        || parser.isName("is")
      {
        throw parser.unexpected("expected `,` or a closing bracket")
      }
      return left
    }
  }

  /// `term := factor (('*' | '/' | '//' | '%') factor)*`
  private mutating func term() throws(SpecError) -> Located {
    var left = try factor()
    while case .op(let op) = current.kind, ["*", "/", "//", "%"].contains(op) {
      let at = next().position
      let right = try factor()
      left = try arithmetic(op, left, right, at: at)
    }
    return left
  }

  /// `factor := ('-' | '+') factor | power`
  private mutating func factor() throws(SpecError) -> Located {
    guard case .op(let op) = current.kind, op == "-" || op == "+" else { return try power() }
    let at = next().position
    return try nested { (parser: inout PythonSpecParser) throws(SpecError) -> Located in
      let operand = try parser.factor()
      guard op == "-" else { return try parser.number(operand, for: "unary `+`") }
      switch operand.value {
      case .constant(.int(let value)):
        let (negated, overflow) = (0).subtractingReportingOverflow(value)
        guard !overflow else { throw parser.error(.value, at, "integer overflow") }
        return Located(value: .constant(.int(negated)), position: at)
      case .constant(.float(let value)):
        return Located(value: .constant(.float(-value)), position: at)
      default:
        throw parser.error(.value, operand.position, "unary `-` needs a number")
      }
    }
  }

  /// `power := primary ['**' factor]`
  private mutating func power() throws(SpecError) -> Located {
    let base = try primary()
    guard isOp("**") else { return base }
    let at = next().position
    let exponent = try factor()
    return try arithmetic("**", base, exponent, at: at)
  }

  private func number(_ value: Located, for what: String) throws(SpecError) -> Located {
    guard case .constant(let constant) = value.value, constant.doubleValue != nil else {
      throw error(.value, value.position, "\(what) needs a number")
    }
    return value
  }

  /// `primary := literal | '(' ... ')' | '[' ... ']' | dotted-name ['(' arguments ')']`
  private mutating func primary() throws(SpecError) -> Located {
    let token = current
    switch token.kind {
    case .int(let value):
      index += 1
      return Located(value: .constant(.int(value)), position: token.position)
    case .float(let value):
      index += 1
      return Located(value: .constant(.float(value)), position: token.position)
    case .string(var value):
      index += 1
      while case .string(let more) = current.kind {
        value += more
        index += 1
      }
      return Located(value: .constant(.string(value)), position: token.position)
    case .op("("):
      index += 1
      return try sequence(closing: ")", at: token.position, isTuple: true)
    case .op("["):
      index += 1
      return try sequence(closing: "]", at: token.position, isTuple: false)
    case .op("{"):
      throw error(
        .syntax, token.position, "dict and set displays are not supported; use OrderedDict([...])")
    case .name(let name):
      switch name {
      case "True":
        index += 1; return Located(value: .constant(.bool(true)), position: token.position)
      case "False":
        index += 1; return Located(value: .constant(.bool(false)), position: token.position)
      case "None": index += 1; return Located(value: .constant(.none), position: token.position)
      default: break
      }
      if let hint = Self.unsupported(name) {
        throw error(.syntax, token.position, hint)
      }
      index += 1
      var path = [name]
      while accept(".") { path.append(try plainName("a name after `.`")) }
      let result: Located
      if isOp("(") {
        result = try call(path, at: token.position)
      } else {
        result = try reference(path, at: token.position)
      }
      if isOp("(") || isOp("[") || isOp(".") {
        throw unexpected("expected an operator or the end of the expression")
      }
      return result
    default:
      throw unexpected("expected a value")
    }
  }

  /// A name used as a value: a constant or module bound earlier, or a `torch.nn.functional`
  /// function (read as its name).
  private func reference(_ path: [String], at: SourcePosition) throws(SpecError) -> Located {
    let dotted = path.joined(separator: ".")
    if path.count == 1 {
      guard let bound = names[path[0]] else {
        throw error(.value, at, "name `\(dotted)` is not defined")
      }
      return Located(value: bound.value, position: at)
    }
    let prefix = path.dropLast().joined(separator: ".")
    if ["F", "functional", "nn.functional", "torch.nn.functional", "torch"].contains(prefix),
      let last = path.last
    {
      return Located(value: .constant(.string(last)), position: at)
    }
    throw error(.value, at, "`\(dotted)` cannot be read as a value; " + Self.subsetNote)
  }

  /// The items of a tuple (`(a,)`, `(a, b)`), a parenthesized expression, or a list, after
  /// the opening bracket.
  private mutating func sequence(
    closing: String, at: SourcePosition, isTuple: Bool
  ) throws(SpecError) -> Located {
    try nested { (parser: inout PythonSpecParser) throws(SpecError) -> Located in
      var items: [Located] = []
      var sawComma = false
      while !parser.isOp(closing) {
        if parser.isOp("*") {
          throw parser.error(
            .syntax, parser.current.position, "unpacking with `*` is not supported")
        }
        items.append(try parser.expression())
        if parser.accept(",") {
          sawComma = true
        } else if !parser.isOp(closing) {
          if parser.isName("for") {
            throw parser.error(
              .syntax, parser.current.position,
              "comprehensions are not supported: " + Self.subsetNote)
          }
          throw parser.unexpected("expected `,` or `\(closing)`")
        }
      }
      parser.index += 1
      if isTuple && items.count == 1 && !sawComma {
        return items[0]
      }
      return Located(value: Self.collect(items), position: at)
    }
  }

  /// A tuple of constants as a ``SpecValue``, or of anything else as items.
  private static func collect(_ items: [Located]) -> Located.Value {
    var constants: [SpecValue] = []
    for item in items {
      guard case .constant(let value) = item.value else { return .items(items) }
      constants.append(value)
    }
    return .constant(.tuple(constants))
  }

  // MARK: Calls

  private struct Argument {
    var keyword: String?
    var value: Located
    var position: SourcePosition
  }

  private mutating func arguments() throws(SpecError) -> [Argument] {
    let open = next().position
    return try nested { (parser: inout PythonSpecParser) throws(SpecError) -> [Argument] in
      var arguments: [Argument] = []
      while !parser.isOp(")") {
        let start = parser.current.position
        if parser.isOp("*") || parser.isOp("**") {
          throw parser.error(
            .syntax, start, "argument unpacking is not supported: " + Self.subsetNote)
        }
        var keyword: String?
        if case .name(let name) = parser.current.kind, parser.index + 1 < parser.tokens.count,
          parser.tokens[parser.index + 1].kind == .op("=")
        {
          keyword = name
          parser.index += 2
        } else if arguments.contains(where: { $0.keyword != nil }) {
          throw parser.error(.syntax, start, "positional argument follows keyword argument")
        }
        let value = try parser.expression()
        arguments.append(Argument(keyword: keyword, value: value, position: start))
        if !parser.accept(",") && !parser.isOp(")") {
          if parser.isName("for") {
            throw parser.error(
              .syntax, parser.current.position,
              "comprehensions are not supported: " + Self.subsetNote)
          }
          throw parser.unexpected(
            "expected `,` or `)` in the call opened at \(open.line):\(open.column)")
        }
      }
      parser.index += 1
      return arguments
    }
  }

  private mutating func call(_ path: [String], at: SourcePosition) throws(SpecError) -> Located {
    let dotted = path.joined(separator: ".")
    let prefix = path.dropLast().joined(separator: ".")
    guard let type = path.last else { throw unexpected("expected a name") }
    if type == "OrderedDict" && (prefix.isEmpty || prefix == "collections") {
      return try orderedDict(try arguments(), at: at)
    }
    guard prefix.isEmpty || prefix == "nn" || prefix == "torch.nn" else {
      throw error(.unknownLayer, at, "`\(dotted)(...)` is not a torch.nn layer; " + Self.subsetNote)
    }
    if path.count == 1, names[type] != nil {
      throw error(.value, at, "`\(type)` is a value, not a torch.nn layer; it cannot be called")
    }
    guard let signature = LayerSignatures.signature(of: type) else {
      throw error(.unknownLayer, at, Self.unknownLayerMessage(dotted, type: type))
    }
    let arguments = try arguments()
    if type == "Sequential" { return try sequential(arguments, at: at) }
    var written: [WrittenArgument] = []
    for argument in arguments {
      guard case .constant(let value) = argument.value.value else {
        throw error(
          .argument, argument.value.position,
          "argument \(argument.keyword.map { "`\($0)` " } ?? "")of \(type) must be a constant")
      }
      written.append(
        WrittenArgument(keyword: argument.keyword, value: value, position: argument.position))
    }
    let bound = try signature.bind(written, call: at, file: file)
    let module = SpecModule(
      path: "", type: type, arguments: bound, line: at.line, column: at.column)
    return Located(value: .module(module), position: at)
  }

  static func unknownLayerMessage(_ written: String, type: String) -> String {
    let lower = type.lowercased()
    if let match = LayerSignatures.knownTypes.first(where: { $0.lowercased() == lower }) {
      return "unknown layer `\(written)`; did you mean `\(match)`?"
    }
    if type.first?.isUppercase == true {
      return "unknown layer `\(written)`: not a torch.nn layer WeightScope knows"
    }
    return "`\(written)(...)` is not a torch.nn layer; " + subsetNote
  }

  /// `nn.Sequential(a, b, ...)` or `nn.Sequential(OrderedDict([...]))`.
  private func sequential(_ arguments: [Argument], at: SourcePosition) throws(SpecError) -> Located
  {
    var children: [SpecModule] = []
    if arguments.count == 1, case .orderedDict(let entries) = arguments[0].value.value {
      for (name, module) in entries {
        var child = module
        child.path = name
        children.append(child)
      }
    } else {
      for (offset, argument) in arguments.enumerated() {
        if argument.keyword != nil {
          throw error(.argument, argument.position, "nn.Sequential takes no keyword arguments")
        }
        guard case .module(var child) = argument.value.value else {
          throw error(
            .argument, argument.value.position,
            "arguments of nn.Sequential must be layers or one OrderedDict of layers")
        }
        child.path = String(offset)
        children.append(child)
      }
    }
    let module = SpecModule(
      path: "", type: "Sequential", children: children, line: at.line, column: at.column)
    return Located(value: .module(module), position: at)
  }

  /// `OrderedDict([("name", layer), ...])`: later duplicates replace earlier ones in place.
  private func orderedDict(_ arguments: [Argument], at: SourcePosition) throws(SpecError) -> Located
  {
    guard arguments.count <= 1, arguments.allSatisfy({ $0.keyword == nil }) else {
      throw error(.argument, at, "OrderedDict takes one list of (name, layer) pairs")
    }
    var entries: [(String, SpecModule)] = []
    guard let argument = arguments.first else {
      return Located(value: .orderedDict([]), position: at)
    }
    let pairs: [Located]
    switch argument.value.value {
    case .items(let items): pairs = items
    case .constant(.tuple(let values)) where values.isEmpty: pairs = []
    default:
      throw error(
        .argument, argument.value.position, "OrderedDict takes a list of (name, layer) pairs")
    }
    for pair in pairs {
      guard case .items(let parts) = pair.value, parts.count == 2,
        case .constant(.string(let name)) = parts[0].value,
        case .module(let module) = parts[1].value
      else {
        throw error(.argument, pair.position, "expected a (name, layer) pair")
      }
      guard !name.isEmpty, !name.contains(".") else {
        throw error(
          .argument, parts[0].position, "module name `\(name)` must be non-empty and contain no `.`"
        )
      }
      if let existing = entries.firstIndex(where: { $0.0 == name }) {
        entries[existing].1 = module
      } else {
        entries.append((name, module))
      }
    }
    return Located(value: .orderedDict(entries), position: at)
  }

  /// Children with full paths: each child's own name prefixed by its parent's path.
  static func named(_ children: [SpecModule], prefix: String) -> [SpecModule] {
    children.map { child in
      var child = child
      child.path = prefix.isEmpty ? child.path : prefix + "." + child.path
      child.children = named(child.children, prefix: child.path)
      return child
    }
  }

  // MARK: Arithmetic

  private func arithmetic(
    _ op: String, _ left: Located, _ right: Located, at: SourcePosition
  ) throws(SpecError) -> Located {
    guard case .constant(let a) = left.value, case .constant(let b) = right.value,
      a.doubleValue != nil, b.doubleValue != nil
    else {
      throw error(.value, at, "`\(op)` needs two numbers")
    }
    do {
      let value = try PythonArithmetic.apply(op, a, b)
      return Located(value: .constant(value), position: left.position)
    } catch {
      throw self.error(.value, at, error.message)
    }
  }
}
