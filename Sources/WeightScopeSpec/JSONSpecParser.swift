/// Reads a JSON spec (see ``SpecParser`` for the format) into a ``Spec``.
struct JSONSpecParser {
  private let file: String

  static func parse(_ text: String, file: String, maxNesting: Int) throws(SpecError) -> Spec {
    let root = try JSONReader.read(text, file: file, maxNesting: maxNesting)
    return try JSONSpecParser(file: file).spec(root)
  }

  private init(file: String) { self.file = file }

  private func error(_ kind: SpecError.Kind, _ at: SourcePosition, _ message: String) -> SpecError {
    SpecError(kind, file: file, line: at.line, column: at.column, message)
  }

  private typealias Members = [(key: String, keyPosition: SourcePosition, value: JSONNode)]

  private func members(_ node: JSONNode, _ what: String, allowed: Set<String>) throws(SpecError)
    -> Members
  {
    guard case .object(let members) = node.value else {
      throw error(.syntax, node.position, "\(what) must be an object, not \(node.kindName)")
    }
    for member in members where !allowed.contains(member.key) {
      throw error(
        .syntax, member.keyPosition,
        "unknown key \"\(member.key)\" in \(what); expected one of "
          + allowed.sorted().map { "\"\($0)\"" }.joined(separator: ", "))
    }
    return members
  }

  private func spec(_ root: JSONNode) throws(SpecError) -> Spec {
    let members = try members(root, "the spec", allowed: ["input", "layers", "comment"])
    var input: [Int]?
    var layers: [SpecModule]?
    for member in members {
      switch member.key {
      case "input": input = try shape(member.value)
      case "layers": layers = try self.layers(member.value, prefix: "")
      default: break
      }
    }
    guard let layers else {
      throw error(.syntax, root.position, "the spec has no \"layers\" array")
    }
    return Spec(modules: layers, input: input, file: file)
  }

  private func shape(_ node: JSONNode) throws(SpecError) -> [Int] {
    switch node.value {
    case .string(let text):
      do {
        return try parseShape(text)
      } catch {
        throw self.error(.value, node.position, error.message)
      }
    case .array(let items):
      var dims: [Int] = []
      for item in items {
        guard case .int(let dim) = item.value, dim > 0 else {
          throw error(.value, item.position, "input dimensions must be positive integers")
        }
        dims.append(dim)
      }
      guard !dims.isEmpty else { throw error(.value, node.position, "the input shape is empty") }
      return dims
    default:
      throw error(
        .value, node.position, "\"input\" must be an array of integers such as [3, 32, 32]")
    }
  }

  private func layers(_ node: JSONNode, prefix: String) throws(SpecError) -> [SpecModule] {
    guard case .array(let items) = node.value else {
      throw error(.syntax, node.position, "\"layers\" must be an array, not \(node.kindName)")
    }
    var modules: [SpecModule] = []
    var seen: Set<String> = []
    for (offset, item) in items.enumerated() {
      let module = try layer(item, index: offset, prefix: prefix)
      guard seen.insert(module.name).inserted else {
        throw error(.syntax, item.position, "two layers are named \"\(module.name)\"")
      }
      modules.append(module)
    }
    return modules
  }

  private func layer(_ node: JSONNode, index: Int, prefix: String) throws(SpecError) -> SpecModule {
    let members = try members(
      node, "a layer", allowed: ["type", "name", "args", "kwargs", "layers", "comment"])
    var typeNode: JSONNode?
    var name = String(index)
    var written: [WrittenArgument] = []
    var childrenNode: JSONNode?
    for member in members {
      switch member.key {
      case "type": typeNode = member.value
      case "name":
        guard case .string(let text) = member.value.value, !text.isEmpty, !text.contains(".") else {
          throw error(
            .syntax, member.value.position, "\"name\" must be a non-empty string without `.`")
        }
        name = text
      case "args":
        guard case .array(let items) = member.value.value else {
          throw error(.syntax, member.value.position, "\"args\" must be an array")
        }
        for item in items {
          written.append(
            WrittenArgument(keyword: nil, value: try value(item), position: item.position))
        }
      case "kwargs":
        guard case .object(let entries) = member.value.value else {
          throw error(.syntax, member.value.position, "\"kwargs\" must be an object")
        }
        for entry in entries {
          written.append(
            WrittenArgument(
              keyword: entry.key, value: try value(entry.value), position: entry.keyPosition))
        }
      case "layers": childrenNode = member.value
      default: break
      }
    }
    // Positional arguments come first whatever the key order in the object.
    written.sort { ($0.keyword == nil ? 0 : 1) < ($1.keyword == nil ? 0 : 1) }
    guard let typeNode, case .string(let writtenType) = typeNode.value else {
      throw error(.syntax, node.position, "a layer needs a \"type\" string such as \"Conv2d\"")
    }
    var type = Substring(writtenType)
    for prefix in ["torch.nn.", "nn."] where type.hasPrefix(prefix) {
      type = type.dropFirst(prefix.count)
    }
    let path = prefix.isEmpty ? name : prefix + "." + name
    guard let signature = LayerSignatures.signature(of: String(type)) else {
      throw error(
        .unknownLayer, typeNode.position,
        PythonSpecParser.unknownLayerMessage(writtenType, type: String(type)))
    }
    if signature.shapeRule == .sequential {
      if let first = written.first {
        throw error(
          .argument, first.position, "Sequential takes its layers in \"layers\", not arguments")
      }
      guard let childrenNode else {
        throw error(.syntax, node.position, "a Sequential needs a \"layers\" array")
      }
      let children = try layers(childrenNode, prefix: path)
      return SpecModule(
        path: path, type: "Sequential", children: children, line: node.position.line,
        column: node.position.column)
    }
    if let childrenNode {
      throw error(.syntax, childrenNode.position, "only a Sequential has \"layers\"")
    }
    let arguments = try signature.bind(written, call: node.position, file: file)
    return SpecModule(
      path: path, type: String(type), arguments: arguments, line: node.position.line,
      column: node.position.column)
  }

  private func value(_ node: JSONNode) throws(SpecError) -> SpecValue {
    switch node.value {
    case .int(let value): return .int(value)
    case .float(let value): return .float(value)
    case .bool(let value): return .bool(value)
    case .string(let value): return .string(value)
    case .null: return .none
    case .array(let items):
      var values: [SpecValue] = []
      for item in items { values.append(try value(item)) }
      return .tuple(values)
    case .object:
      throw error(.argument, node.position, "an argument cannot be an object")
    }
  }
}
