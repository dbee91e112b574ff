import WeightScopeCore

extension PickleDocument {
  /// A short Python-like rendering of `value` for messages, cut off after `budget` values.
  ///
  /// Shared and cyclic references are never expanded twice along one path, and the budget
  /// bounds the whole rendering, so a pickle of nested shared references renders in bounded time.
  public func describe(_ value: PickleValue, budget: Int = 24) -> String {
    var remaining = budget
    var onPath: Set<Int> = []
    return describe(value, remaining: &remaining, onPath: &onPath)
  }

  private func describe(_ value: PickleValue, remaining: inout Int, onPath: inout Set<Int>)
    -> String
  {
    guard remaining > 0 else { return "..." }
    remaining -= 1
    switch value {
    case .none: return "None"
    case .bool(let flag): return flag ? "True" : "False"
    case .int(let number): return String(number)
    case .bigInt(let bytes):
      return bytes.count <= 64 ? PickleText.decimal(bytes) : "<\(bytes.count)-byte integer>"
    case .float(let number): return String(number)
    case .string(let text):
      let short = text.count > 40 ? String(text.prefix(40)) + "..." : text
      return "'" + short + "'"
    case .bytes(let bytes): return "b" + printable(bytes)
    case .global(let global, _): return global.description
    case .node(let id):
      guard !onPath.contains(id.index) else { return "<cycle>" }
      onPath.insert(id.index)
      defer { onPath.remove(id.index) }
      func join<Items: Sequence<PickleValue>>(_ items: Items) -> String {
        var parts: [String] = []
        for item in items {
          guard remaining > 0 else {
            parts.append("...")
            break
          }
          parts.append(describe(item, remaining: &remaining, onPath: &onPath))
        }
        return parts.joined(separator: ", ")
      }
      switch self[id] {
      case .tuple(let items): return "(" + join(items) + (items.count == 1 ? ",)" : ")")
      case .list(let items): return "[" + join(items) + "]"
      case .set(let items): return "{" + join(items) + "}"
      case .frozenset(let items): return "frozenset({" + join(items) + "})"
      case .bytearray(let bytes): return "bytearray(b" + printable(bytes) + ")"
      case .dict(let entries):
        return "{" + join(entries.flatMap { [$0.key, $0.value] }) + "}"
      case .object(let object):
        let callable = describe(object.callable, remaining: &remaining, onPath: &onPath)
        let arguments = describe(object.arguments, remaining: &remaining, onPath: &onPath)
        return callable + arguments
      case .persistentID(let pid):
        return "persistent_id(" + describe(pid, remaining: &remaining, onPath: &onPath) + ")"
      case .pending: return "<pending>"
      }
    }
  }
}
