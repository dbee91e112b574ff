/// A JSON document built in memory and written compactly, keys in the order given.
///
/// Integers are written as integers, never as strings or floats; strings are escaped as RFC 8259
/// requires (quote, backslash and control characters), and everything else, non-ASCII
/// included, passes through as UTF-8.
public indirect enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case string(String)
  case array([JSONValue])
  /// Members in the order they are written.
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    a.serialized() == b.serialized()
  }

  /// The compact, one-line text of this value.
  public func serialized() -> String {
    var writer = JSONWriter()
    write(to: &writer)
    return writer.text
  }

  /// Writes the compact text of this value.
  public func write(to writer: inout JSONWriter) {
    switch self {
    case .null: writer.null()
    case .bool(let b): writer.bool(b)
    case .int(let i): writer.int(i)
    case .string(let s): writer.string(s)
    case .array(let items):
      writer.beginArray()
      for item in items { item.write(to: &writer) }
      writer.endArray()
    case .object(let members):
      writer.beginObject()
      for (key, value) in members {
        writer.key(key)
        value.write(to: &writer)
      }
      writer.endObject()
    }
  }
}
