import WeightScopeCore

/// Reads architecture specs: PyTorch `nn.Sequential` source, or JSON.
///
/// **Python.** A `.py` file or snippet building an `nn.Sequential(...)` of `torch.nn` layers,
/// read without running Python (see `TestModels/specs/SPEC-FORMAT.md` for the subset). The
/// last `nn.Sequential` the file assigns or states is the model.
///
/// **JSON.** An object with `"layers"` and an optional `"input"`:
///
/// ```json
/// {
///   "input": [3, 32, 32],
///   "layers": [
///     {"type": "Conv2d", "args": [3, 32], "kwargs": {"kernel_size": 3, "padding": 1}},
///     {"type": "Sequential", "name": "classifier", "layers": [
///       {"type": "Linear", "name": "fc1", "args": [4096, 10]}
///     ]}
///   ]
/// }
/// ```
///
/// A layer has a `"type"` (a `torch.nn` class name, `nn.` prefix optional), optional `"args"`
/// (positional, in torch's order), `"kwargs"` (by torch's parameter names) and `"name"` (its
/// name in the parent, as an `OrderedDict` key; the index when absent). A `Sequential` has
/// `"layers"` instead of arguments. Arrays are tuples; `null` is `None`; a `"comment"` key is
/// ignored anywhere a layer or the spec has keys. `"input"` is a per-sample shape, batch
/// dimension excluded, as an array or a string such as `"3x32x32"`.
///
/// Positional arguments are bound to torch's parameter names and every default is filled in,
/// so `Conv2d(3, 32, 3)` and `{"type": "Conv2d", "args": [3, 32, 3]}` give the same module.
public enum SpecParser {
  /// The deepest nesting of brackets, calls or JSON values a spec may use.
  public static let maxNesting = 100
  /// The largest spec file read.
  public static let maxBytes = 16 << 20

  /// Reads Python source; `file` names it in error locations.
  public static func parsePython(_ text: String, file: String = "<python>") throws(SpecError)
    -> Spec
  {
    try PythonSpecParser.parse(text, file: file, maxNesting: maxNesting)
  }

  /// Reads a JSON spec; `file` names it in error locations.
  public static func parseJSON(_ text: String, file: String = "<json>") throws(SpecError) -> Spec {
    try JSONSpecParser.parse(text, file: file, maxNesting: maxNesting)
  }

  /// Reads either form: JSON when the first non-blank character is `{`, Python otherwise.
  public static func parse(_ text: String, file: String) throws(SpecError) -> Spec {
    let first = text.unicodeScalars.first { !$0.properties.isWhitespace && $0 != "\u{FEFF}" }
    return first == "{" ? try parseJSON(text, file: file) : try parsePython(text, file: file)
  }

  /// Reads the spec file at `path`: JSON for a `.json` name, Python for `.py`, else by content.
  ///
  /// - Throws: `.io` when the file cannot be read, `.limitExceeded` past ``maxBytes``.
  public static func parse(path: String) throws(SpecError) -> Spec {
    let bytes: FileBytes
    do {
      bytes = try FileBytes(path: path)
    } catch {
      throw SpecError(.io, file: path, line: 0, column: 0, error.message)
    }
    guard bytes.count <= maxBytes else {
      throw SpecError(
        .limitExceeded, file: path, line: 0, column: 0,
        "spec is \(bytes.count) bytes; the limit is \(maxBytes)")
    }
    var text = String(decoding: bytes.buffer, as: UTF8.self)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    let lower = path.lowercased()
    if lower.hasSuffix(".json") { return try parseJSON(text, file: path) }
    if lower.hasSuffix(".py") { return try parsePython(text, file: path) }
    return try parse(text, file: path)
  }
}
