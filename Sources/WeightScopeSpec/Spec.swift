/// An architecture a user meant: the layers of an `nn.Sequential`, read from source or JSON.
public struct Spec: Sendable, Equatable, Codable {
  /// The children of the outermost `nn.Sequential`, in order.
  public var modules: [SpecModule]
  /// The per-sample input shape (batch dimension excluded), when the spec states one.
  public var input: [Int]?
  /// The file the spec was read from, as given to the parser; used in error locations.
  public var file: String

  public init(modules: [SpecModule], input: [Int]? = nil, file: String = "") {
    self.modules = modules
    self.input = input
    self.file = file
  }

  /// Every module in `named_modules()` order (a container before its children), root excluded.
  public var allModules: [SpecModule] {
    var result: [SpecModule] = []
    func visit(_ modules: [SpecModule]) {
      for module in modules {
        result.append(module)
        visit(module.children)
      }
    }
    visit(modules)
    return result
  }
}

/// One `torch.nn` layer as written, with its arguments bound to torch's parameter names.
public struct SpecModule: Sendable, Equatable, Codable {
  /// The name PyTorch gives the module: `"0"`, `"features.2"`, `"classifier.fc1"`.
  public var path: String
  /// The `torch.nn` class name: `"Conv2d"`, `"Sequential"`.
  public var type: String
  /// Every parameter of the layer's constructor by name, defaults filled in.
  ///
  /// `device` and `dtype` appear only when written. Empty for `Sequential`.
  public var arguments: [String: SpecValue]
  /// The modules of a `Sequential`, in order; empty for every other layer.
  public var children: [SpecModule]
  /// Where the layer was written: 1-based line and column (in characters) of its call or object.
  public var line: Int
  public var column: Int

  public init(
    path: String, type: String, arguments: [String: SpecValue] = [:],
    children: [SpecModule] = [], line: Int = 0, column: Int = 0
  ) {
    self.path = path
    self.type = type
    self.arguments = arguments
    self.children = children
    self.line = line
    self.column = column
  }

  /// The last component of ``path``: the index or key in the parent `Sequential`.
  public var name: String {
    guard let dot = path.lastIndex(of: ".") else { return path }
    return String(path[path.index(after: dot)...])
  }

  /// The argument `name` as an integer, when it is one.
  public func int(_ name: String) -> Int? { arguments[name]?.intValue }
  /// The argument `name` as a boolean, when it is one.
  public func bool(_ name: String) -> Bool? { arguments[name]?.boolValue }
}

/// A constant argument value: the Python literals a layer constructor takes.
public enum SpecValue: Sendable, Equatable, Codable, CustomStringConvertible {
  case int(Int)
  case float(Double)
  case bool(Bool)
  case string(String)
  case none
  /// A tuple or a list (PyTorch accepts either wherever a sequence is taken).
  case tuple([SpecValue])

  public var intValue: Int? {
    if case .int(let value) = self { return value }
    return nil
  }

  public var boolValue: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The value as a number: an int or a float (not a bool).
  public var doubleValue: Double? {
    switch self {
    case .int(let value): Double(value)
    case .float(let value): value
    default: nil
    }
  }

  /// Python's spelling: `3`, `0.5`, `True`, `'same'`, `None`, `(3, 3)`.
  public var description: String {
    switch self {
    case .int(let value): String(value)
    case .float(let value): String(value)
    case .bool(let value): value ? "True" : "False"
    case .string(let value): "'" + value + "'"
    case .none: "None"
    case .tuple(let values):
      values.count == 1
        ? "(\(values[0]),)" : "(" + values.map(\.description).joined(separator: ", ") + ")"
    }
  }
}

extension SpecValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByStringLiteral
{
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .float(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(stringLiteral value: String) { self = .string(value) }
}
