import WeightScopeAnalysis
import WeightScopeModel

/// The `weightscope.inspect/1` document of one file, on one line.
///
/// Keys beyond the contract (`facts`, `tensors[].rule`, `layers[].notes`,
/// `layers[].formula.problems`, `totals.nonTrainableBreakdown`, `totals.byDtype`) are additions
/// the contract allows.
public enum JSONReport {
  public static let schema = "weightscope.inspect/1"

  /// The document for `analysis`, naming the file `path` as the user gave it.
  public static func render(_ analysis: Analysis, path: String) -> String {
    document(analysis, path: path).serialized()
  }

  /// The document as a value, for callers that embed it.
  public static func document(_ analysis: Analysis, path: String) -> JSONValue {
    .object([
      ("schema", .string(schema)),
      ("file", .string(path)),
      ("format", .string(analysis.file.format.rawValue)),
      (
        "facts",
        .array(
          analysis.file.facts.map {
            .object([("key", .string($0.key)), ("value", .string($0.value))])
          })
      ),
      ("tensors", .array(analysis.tensors.map(tensor))),
      ("layers", .array(analysis.layers.map(layer))),
      ("totals", totals(analysis.totals)),
      ("findings", .array(analysis.findings.map(finding))),
    ])
  }

  static func tensor(_ t: AnalyzedTensor) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("name", .string(t.info.name)),
      ("shape", .ints(t.info.shape)),
      ("dtype", .string(t.info.dtype.rawValue)),
      ("elements", .int(t.info.elements)),
      ("bytes", .int(t.info.bytes)),
      ("layer", .string(t.layer)),
      ("role", .string(t.role.rawValue)),
      ("trainable", .bool(t.trainable)),
      ("rule", .string(t.rule.rawValue)),
    ]
    if let shared = t.info.sharedWith { members.append(("sharedWith", .string(shared))) }
    return .object(members)
  }

  static func layer(_ l: Layer) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("name", .string(l.name)),
      ("kind", .string(l.kind.rawValue)),
      ("parameters", .int(l.parameters)),
      ("trainable", .int(l.trainable)),
      ("nonTrainable", .int(l.nonTrainable)),
    ]
    if l.constants > 0 { members.append(("constants", .int(l.constants))) }
    if l.optimizerState > 0 { members.append(("optimizerState", .int(l.optimizerState))) }
    if let f = l.formula {
      var formula: [(String, JSONValue)] = [
        ("text", .string(f.text)),
        ("expected", .int(f.expected)),
        ("matches", .bool(f.matches)),
        ("trainable", .int(f.formula.trainable)),
        ("nonTrainable", .int(f.formula.nonTrainable)),
      ]
      if !f.problems.isEmpty {
        formula.append(("problems", .array(f.problems.map(JSONValue.string))))
      }
      members.append(("formula", .object(formula)))
    }
    if !l.notes.isEmpty { members.append(("notes", .array(l.notes.map(JSONValue.string)))) }
    return .object(members)
  }

  static func totals(_ t: Totals) -> JSONValue {
    let b = t.nonTrainableBreakdown
    return .object([
      ("tensors", .int(t.tensors)),
      ("elements", .int(t.elements)),
      ("parameters", .int(t.parameters)),
      ("trainable", .int(t.trainable)),
      ("nonTrainable", .int(t.nonTrainable)),
      ("constants", .int(t.constants)),
      ("optimizerState", .int(t.optimizerState)),
      ("bytes", .int(t.bytes)),
      (
        "nonTrainableBreakdown",
        .object([
          ("runningStats", .int(b.runningStats)), ("numBatchesTracked", .int(b.numBatchesTracked)),
          ("buffers", .int(b.buffers)), ("frozen", .int(b.frozen)),
        ])
      ),
      (
        "byDtype",
        .array(
          t.byDType.map {
            .object([
              ("dtype", .string($0.dtype.rawValue)), ("elements", .int($0.elements)),
              ("bytes", .int($0.bytes)),
            ])
          })
      ),
    ])
  }

  static func finding(_ f: Finding) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("severity", .string(f.severity.rawValue)),
      ("code", .string(f.code)),
      ("message", .string(f.message)),
    ]
    if let offset = f.offset { members.append(("offset", .int(offset))) }
    return .object(members)
  }
}
