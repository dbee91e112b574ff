import WeightScopeCore
import WeightScopeModel

/// Reads ONNX models (`onnx.proto` `ModelProto`) by decoding the protobuf wire format directly.
///
/// Only metadata is decoded: tensor payloads (`raw_data`, typed data arrays, external files)
/// are measured by their lengths and skipped, so a listing costs time in proportion to the
/// number of tensors and nodes, not to the size of the file.
public enum ONNXReader {
  /// Reads an ONNX model's metadata: initializers and the nodes that use them, never payloads.
  ///
  /// `path` is where the bytes came from: external data files are looked for in its folder.
  ///
  /// - Throws: a `ReadError` whose context is the field path (`ModelProto.graph.initializer[12].
  ///   dims`) and whose offset is where in the file the problem is; `.refused` for external data
  ///   that points outside the model's folder.
  public static func read(_ bytes: FileBytes, path: String, limits: Limits) throws(ReadError)
    -> WeightFile
  {
    let split = InitializerSplit(
      limits: limits, externals: ExternalDataResolver(modelPath: path), bytes: bytes,
      proto: "ModelProto.graph")
    return try read(bytes, path: path, limits: limits, splitting: split)
  }

  /// Reads the model, handing the main graph's first initializers to `split` if the graph is
  /// large; any error then, and the model is read again in one pass.
  static func read(
    _ bytes: FileBytes, path: String, limits: Limits, splitting split: InitializerSplit
  ) throws(ReadError) -> WeightFile {
    do {
      return try read(bytes, path: path, limits: limits, split: split)
    } catch {
      guard split.started else { throw error }
      // Something failed while the model was read on two cores: the one pass finds what a
      // reader meets first, and says where.
      split.cancel()
      return try read(bytes, path: path, limits: limits, split: nil)
    }
  }

  /// Reads the model, handing the main graph's first initializers to `split` if it is given
  /// and the graph is large; with no `split`, in one pass.
  static func read(
    _ bytes: FileBytes, path: String, limits: Limits, split: InitializerSplit?
  ) throws(ReadError) -> WeightFile {
    var state = ProtoState(limits: limits)
    state.split = split
    let model: ModelProto
    do {
      model = try ModelProto(parsing: bytes.reader(), state: &state)
    } catch {
      throw error.prefixed("ModelProto")
    }
    guard let graph = model.graph else {
      throw ReadError(.malformed, at: bytes.count, "the model has no graph", context: "ModelProto")
    }
    if let split, split.started {
      // Another graph field replaced the one read apart: its messages still count.
      guard graph.apart != nil else { throw InitializerSplit.mustReadInOnePass }
      split.mainMessages = state.messages
    }

    var collector = TensorCollector(
      limits: limits, externals: ExternalDataResolver(modelPath: path), bytes: bytes)
    try collector.walk(graph, proto: "ModelProto.graph", path: "", keepScope: true, split: split)
    for (t, info) in model.trainingInfo.enumerated() {
      if let initialization = info.initialization {
        try collector.walk(
          initialization, proto: "ModelProto.training_info[\(t)].initialization",
          path: "training_info[\(t)]/initialization", countOperators: false)
      }
      if let algorithm = info.algorithm {
        try collector.walk(
          algorithm, proto: "ModelProto.training_info[\(t)].algorithm",
          path: "training_info[\(t)]/algorithm", countOperators: false)
      }
    }
    for (f, function) in model.functions.enumerated() {
      try collector.walk(function, proto: "ModelProto.functions[\(f)]")
    }
    collector.applyTraining(model.trainingInfo)

    var findings = collector.findings
    if model.opsetImport.isEmpty {
      findings.append(
        Finding(
          .warning, "onnx.no-opset",
          "the model imports no operator set (opset_import is empty)"))
    }
    return WeightFile(
      path: path, format: .onnx, tensors: collector.tensors,
      facts: ModelFacts.facts(
        model, graph: graph, isInitializer: collector.isMainInitializer,
        operators: collector.operatorCounts),
      findings: findings)
  }

  /// Whether the bytes plausibly start an ONNX ModelProto (for format detection by content).
  ///
  /// Looks at up to four top-level fields: each must be a `ModelProto` field with its declared
  /// wire type and fit in the file, and `ir_version`, when present, must be a small positive
  /// number. Nothing else of the file is touched.
  public static func looksLikeONNX(_ reader: ByteReader) -> Bool {
    var fields = MessageReader(reader)
    var seen = 0
    var sawModelField = false
    while seen < 4 {
      do {
        guard let key = try fields.nextKey() else { break }
        guard let wireType = ModelProto.wireType(of: key.number), wireType == key.wireType else {
          return false
        }
        switch key.number {
        case 1:
          let version = try fields.varint(key)
          guard version >= 1, version <= 100 else { return false }
          sawModelField = true
        case 7, 8:
          _ = try fields.lengthDelimited(key)
          sawModelField = true
        default:
          try fields.skip(key)
        }
      } catch {
        // A model cut short after a valid ir_version or graph is still a model: the reader
        // then says where it ends.
        return error.kind == .truncated && sawModelField
      }
      seen += 1
    }
    return sawModelField || (seen >= 2)
  }
}
