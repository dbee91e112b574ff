import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel

/// The `weightscope.inspect/1` document of one file, on one line.
///
/// Keys beyond the contract (`facts`, `tensors[].rule`, `layers[].notes`,
/// `layers[].formula.problems`, `totals.nonTrainableBreakdown`, `totals.byDtype`) are additions
/// the contract allows. Written straight into bytes: a document lists every tensor, and a
/// checkpoint can hold a hundred thousand.
public enum JSONReport {
  public static let schema = "weightscope.inspect/1"

  /// The document for `analysis`, naming the file `path` as the user gave it.
  public static func render(_ analysis: Analysis, path: String) -> String {
    String(decoding: bytes(analysis, path: path), as: UTF8.self)
  }

  /// ``render(_:path:)`` as the UTF-8 bytes it is written in, for printing without a copy.
  public static func bytes(_ analysis: Analysis, path: String) -> [UInt8] {
    // About 170 bytes per tensor and per layer: room from the analysis, not from the file.
    let capacity = 1024 + 170 * (analysis.tensors.count + analysis.layers.count)
    HeapReserve.expect(bytes: capacity)
    var w = JSONWriter(capacity: capacity)
    w.beginObject()
    w.member("schema", schema)
    w.member("file", path)
    w.member("format", analysis.file.format.rawValue)
    w.key("facts")
    w.beginArray()
    for fact in analysis.file.facts {
      w.beginObject()
      w.member("key", fact.key)
      w.member("value", fact.value)
      w.endObject()
    }
    w.endArray()
    w.key("tensors")
    w.beginArray()
    for i in analysis.tensors.indices { tensor(analysis.tensors[i], to: &w) }
    w.endArray()
    w.key("layers")
    w.beginArray()
    for i in analysis.layers.indices { layer(analysis.layers[i], to: &w) }
    w.endArray()
    w.key("totals")
    totals(analysis.totals, to: &w)
    w.key("findings")
    w.beginArray()
    for f in analysis.findings { finding(f, to: &w) }
    w.endArray()
    w.endObject()
    return w.bytes
  }

  static func tensor(_ t: AnalyzedTensor, to w: inout JSONWriter) {
    w.beginObject()
    w.member("name", t.info.name)
    w.member("shape", ints: t.info.shape)
    w.member("dtype", t.info.dtype.rawValue)
    w.member("elements", t.info.elements)
    w.member("bytes", t.info.bytes)
    w.member("layer", t.layer)
    w.member("role", t.role.rawValue)
    w.member("trainable", t.trainable)
    w.member("rule", t.rule.rawValue)
    if let shared = t.info.sharedWith { w.member("sharedWith", shared) }
    w.endObject()
  }

  static func layer(_ l: Layer, to w: inout JSONWriter) {
    w.beginObject()
    w.member("name", l.name)
    w.member("kind", l.kind.rawValue)
    w.member("parameters", l.parameters)
    w.member("trainable", l.trainable)
    w.member("nonTrainable", l.nonTrainable)
    if l.constants > 0 { w.member("constants", l.constants) }
    if l.optimizerState > 0 { w.member("optimizerState", l.optimizerState) }
    if let f = l.formula {
      w.key("formula")
      w.beginObject()
      w.member("text", f.text)
      w.member("expected", f.expected)
      w.member("matches", f.matches)
      w.member("trainable", f.formula.trainable)
      w.member("nonTrainable", f.formula.nonTrainable)
      if !f.problems.isEmpty {
        w.key("problems")
        w.beginArray()
        for problem in f.problems { w.string(problem) }
        w.endArray()
      }
      w.endObject()
    }
    if !l.notes.isEmpty {
      w.key("notes")
      w.beginArray()
      for note in l.notes { w.string(note) }
      w.endArray()
    }
    w.endObject()
  }

  static func totals(_ t: Totals, to w: inout JSONWriter) {
    let b = t.nonTrainableBreakdown
    w.beginObject()
    w.member("tensors", t.tensors)
    w.member("elements", t.elements)
    w.member("parameters", t.parameters)
    w.member("trainable", t.trainable)
    w.member("nonTrainable", t.nonTrainable)
    w.member("constants", t.constants)
    w.member("optimizerState", t.optimizerState)
    w.member("bytes", t.bytes)
    w.key("nonTrainableBreakdown")
    w.beginObject()
    w.member("runningStats", b.runningStats)
    w.member("numBatchesTracked", b.numBatchesTracked)
    w.member("buffers", b.buffers)
    w.member("frozen", b.frozen)
    w.endObject()
    w.key("byDtype")
    w.beginArray()
    for d in t.byDType {
      w.beginObject()
      w.member("dtype", d.dtype.rawValue)
      w.member("elements", d.elements)
      w.member("bytes", d.bytes)
      w.endObject()
    }
    w.endArray()
    w.endObject()
  }

  static func finding(_ f: Finding, to w: inout JSONWriter) {
    w.beginObject()
    w.member("severity", f.severity.rawValue)
    w.member("code", f.code)
    w.member("message", f.message)
    if let offset = f.offset { w.member("offset", offset) }
    w.endObject()
  }
}
