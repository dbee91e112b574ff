import Foundation
import Testing

@testable import WeightScopeReport

/// The JSON writer, against Foundation's parser and a hand-written expectation.
@Suite struct JSONWriterTests {
  @Test func escapesWhatRFC8259RequiresAndPassesTheRestThrough() throws {
    var w = JSONWriter()
    w.beginObject()
    w.member("quote\"back\\slash", "line\nfeed\r\ttab\u{08}\u{0C}\u{01}\u{1F} café 🙂")
    w.member("n", Int.min)
    w.member("m", Int.max)
    w.member("t", true)
    w.key("empty")
    w.beginArray()
    w.endArray()
    w.key("nested")
    w.beginArray()
    w.beginObject()
    w.endObject()
    w.null()
    w.int(-7)
    w.endArray()
    w.endObject()
    #expect(
      w.text
        == #"{"quote\"back\\slash":"line\nfeed\r\ttab\b\f\u0001\u001f café 🙂","n":-9223372036854775808,"m":9223372036854775807,"t":true,"empty":[],"nested":[{},null,-7]}"#
    )
    let parsed = try #require(
      JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
    #expect(parsed["quote\"back\\slash"] as? String == "line\nfeed\r\ttab\u{08}\u{0C}\u{01}\u{1F} café 🙂")
  }

  @Test func valuesWriteThroughTheWriter() {
    let value = JSONValue.object([
      ("a", .array([.int(1), .string("x"), .null, .bool(false)])), ("b", .object([])),
    ])
    #expect(value.serialized() == #"{"a":[1,"x",null,false],"b":{}}"#)
  }
}
