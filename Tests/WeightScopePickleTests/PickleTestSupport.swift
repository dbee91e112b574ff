import Foundation
import WeightScopeCore

@testable import WeightScopePickle

/// Runs the machine over `bytes`.
func run(_ bytes: [UInt8], limits: Limits = .default) throws(ReadError) -> PickleDocument {
  try PickleMachine.run(FileBytes(copying: bytes).reader(), limits: limits)
}

/// Bytes of a pickle written as a mix of text and raw bytes.
func pickle(_ parts: Any...) -> [UInt8] {
  var out: [UInt8] = []
  for part in parts {
    switch part {
    case let text as String: out += Array(text.utf8)
    case let byte as UInt8: out.append(byte)
    case let bytes as [UInt8]: out += bytes
    case let opcode as PickleOpcode: out.append(opcode.rawValue)
    default: break
    }
  }
  return out
}

/// The error `body` throws, or nil.
func error(_ body: () throws(ReadError) -> Void) -> ReadError? {
  do {
    try body()
    return nil
  } catch {
    return error
  }
}

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// The canonical rendering `tools/make_pickle_fixtures.py` writes, rebuilt from a document.
///
/// Calls to the few constructors CPython uses for built-in types (set, frozenset, bytearray,
/// `_codecs.encode` for bytes under protocols below 3) are rendered as the values they build.
func render(_ document: PickleDocument, _ value: PickleValue) -> String {
  func hexText(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
  func all<Items: Sequence<PickleValue>>(_ items: Items) -> String {
    items.map { render(document, $0) }.joined(separator: ",")
  }
  switch value {
  case .none: return "None"
  case .bool(let flag): return flag ? "True" : "False"
  case .int(let number): return String(number)
  case .bigInt(let bytes): return PickleText.decimal(bytes)
  case .float(let number): return String(number)
  case .string(let text): return "s'" + text + "'"
  case .bytes(let bytes): return "b'" + hexText(bytes) + "'"
  case .global(let global, _): return "g:\(global)"
  case .node(let id):
    switch document[id] {
    case .tuple(let items): return "(" + all(items) + ")"
    case .list(let items): return "[" + all(items) + "]"
    case .set(let items): return "set{" + all(items) + "}"
    case .frozenset(let items): return "frozenset{" + all(items) + "}"
    case .bytearray(let bytes): return "ba'" + hexText(bytes) + "'"
    case .dict(let entries):
      return "{"
        + entries.map { render(document, $0.key) + ":" + render(document, $0.value) }
        .joined(separator: ",") + "}"
    case .object(let object):
      let arguments = document.sequence(object.arguments) ?? .empty
      let name = object.callableGlobal.map {
        PickleGlobal(PickleGlobalPolicy.python3Module($0.module), $0.name)
      }
      switch name?.description {
      case "builtins.set":
        return "set{" + all(arguments.first.flatMap { document.sequence($0) } ?? .empty) + "}"
      case "builtins.frozenset":
        return "frozenset{" + all(arguments.first.flatMap { document.sequence($0) } ?? .empty) + "}"
      case "builtins.bytes" where arguments.isEmpty:
        return "b''"
      case "_codecs.encode":
        guard case .string(let text)? = arguments.first else { return "?" }
        return "b'" + hexText(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }) + "'"
      case "builtins.bytearray":
        switch arguments.first {
        case .bytes(let bytes)?: return "ba'" + hexText(bytes) + "'"
        case .string(let text)?:
          return "ba'" + hexText(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            + "'"
        case .node?:
          // bytes written by protocols below 3 as `_codecs.encode(...)`.
          let inner = render(document, arguments[0])
          return "ba" + inner.dropFirst()
        default: return "ba''"
        }
      default:
        return "obj(" + render(document, object.callable) + ")"
      }
    case .persistentID(let pid): return "pid(" + render(document, pid) + ")"
    case .pending: return "<pending>"
    }
  }
}
