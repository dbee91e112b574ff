import WeightScopeCore
import WeightScopeModel

/// Walks a decoded model and lists every tensor it holds, with the nodes that consume each.
///
/// Tensors come from graph initializers and sparse initializers, `Constant` nodes, tensor
/// attributes of other nodes, subgraphs (any graph attribute, recursively), model-local functions
/// and training graphs. Names resolve through a scope: a subgraph sees its outer graphs' tensors
/// unless its own inputs shadow them; a function sees only its own.
struct TensorCollector {
  let limits: Limits
  var externals: ExternalDataResolver
  /// The model's bytes, which node input and output names are read from.
  let bytes: FileBytes
  private(set) var tensors: [TensorInfo] = []
  private(set) var findings: [Finding] = []
  /// Operator counts in the main graph and its subgraphs, in order of first appearance.
  private(set) var operatorCounts: [(String, Int)] = []
  private var operatorIndex: [String: Int] = [:]
  /// The operator counted last and its index in ``operatorCounts``: runs of one operator are
  /// counted without hashing its name.
  private var lastOperator: (name: String, index: Int)?

  /// Name to tensor index; -1 marks a name shadowed by a subgraph input.
  private var scope = NameScope()
  /// Previous bindings, to undo when a subgraph's scope closes.
  private var undo: [(String, Int?)] = []
  /// Whether bindings are recorded in `undo`: not while walking a graph whose scope is kept.
  private var recordingUndo = true

  /// Operators whose first output is their first input in another type or encoding: a tensor
  /// that flows through one is also recorded at its eventual consumer.
  static let passThrough: Set<String> = ["Identity", "Cast", "CastLike", "DequantizeLinear"]

  init(limits: Limits, externals: ExternalDataResolver, bytes: FileBytes) {
    self.limits = limits
    self.externals = externals
    self.bytes = bytes
  }

  // MARK: Graphs

  /// Lists `graph`'s tensors and those of its subgraphs.
  ///
  /// - Parameters:
  ///   - proto: the graph's field path, for errors (`ModelProto.graph`).
  ///   - path: the graph's path for `OperatorUse.graph` and sections: empty for the main graph.
  ///   - keepScope: leave the graph's names bound afterwards (the main graph, which training
  ///     algorithms extend).
  ///   - countOperators: add the graph's nodes to ``operatorCounts``.
  ///   - split: where the main graph's initializers were listed apart, if they were.
  mutating func walk(
    _ graph: GraphProto, proto: String, path: String, keepScope: Bool = false,
    countOperators: Bool = true, split: InitializerSplit? = nil
  ) throws(ReadError) {
    let mark = undo.count
    let wasRecording = recordingUndo
    recordingUndo = !keepScope
    defer { recordingUndo = wasRecording }
    let section = Self.section(for: path)
    if !path.isEmpty, !keepScope {
      for input in graph.input where !input.name.isEmpty { bind(input.name, -1) }
    }
    let firstIndex = tensors.count
    if let split, graph.apart != nil {
      // Listed on another core by a collector that started as this one is now, empty.
      guard tensors.isEmpty, path.isEmpty, var listed = split.join() else {
        throw InitializerSplit.mustReadInOnePass
      }
      if let error = listed.error { throw error }
      // Swapped, not copied: the arrays stay uniquely held, and grow in place.
      swap(&self, &listed.collector)
      recordingUndo = !keepScope
      let rest = graph.initializer.count + graph.sparseInitializer.count
      scope.reserveCapacity(rest)
      tensors.reserveCapacity(tensors.count + rest)
      try addInitializers(
        graph.initializer, from: split.count, proto: proto, section: section,
        firstIndex: firstIndex, path: path)
    } else {
      if path.isEmpty {
        // Sized from what was decoded, never from a count the file claims; only for the main
        // graph, since reserving for each of many subgraphs would defeat geometric growth.
        let initializers = graph.initializer.count + graph.sparseInitializer.count
        scope.reserveCapacity(initializers)
        tensors.reserveCapacity(tensors.count + initializers)
      }
      try addInitializers(
        graph.initializer, from: 0, proto: proto, section: section, firstIndex: firstIndex,
        path: path)
    }
    for (i, sparse) in graph.sparseInitializer.enumerated() {
      let index = try add(
        sparse, name: sparse.name, proto: "\(proto).sparse_initializer[\(i)]",
        section: section)
      bind(sparse.name, index)
    }
    for k in graph.node.indices {
      try visit(
        graph.node[k], index: k, proto: "\(proto).node[\(k)]", path: path, section: section,
        countOperators: countOperators)
    }
    if !keepScope { restore(to: mark) }
  }

  /// Adds a graph's initializers and binds their names, noting a name defined twice.
  ///
  /// `initializers` are the graph's from the one numbered `first`.
  private mutating func addInitializers(
    _ initializers: [TensorProto], from first: Int, proto: String, section: String,
    firstIndex: Int, path: String
  ) throws(ReadError) {
    for i in initializers.indices {
      try addInitializer(
        initializers[i], number: first + i, proto: proto, section: section,
        firstIndex: firstIndex, path: path)
    }
  }

  /// Adds the graph's initializer numbered `number` and binds its name, noting a name defined
  /// twice in the graph, whose tensors start at `firstIndex`.
  private mutating func addInitializer(
    _ initializer: TensorProto, number: Int, proto: String, section: String, firstIndex: Int,
    path: String
  ) throws(ReadError) {
    let index = try add(
      initializer, name: initializer.name, proto: "\(proto).initializer[\(number)]",
      section: section)
    if let earlier = bind(initializer.name, index), earlier >= firstIndex {
      findings.append(
        Finding(
          .warning, "onnx.duplicate-name",
          "initializer \(quoted(initializer.name)) is defined twice in "
            + graphDescription(path),
          offset: initializer.offset))
    }
  }

  /// Adds the main graph's initializer numbered `number` to this collector, which holds the
  /// ones before it and nothing else, as the walk of the main graph does first
  /// (``InitializerSplit``). The first call reserves room for `expected` of them.
  mutating func addMainInitializer(
    _ initializer: TensorProto, number: Int, expected: Int, proto: String
  ) throws(ReadError) {
    if number == 0 {
      scope.reserveCapacity(expected)
      tensors.reserveCapacity(expected)
    }
    // The main graph's scope is kept: nothing to undo.
    recordingUndo = false
    defer { recordingUndo = true }
    try addInitializer(
      initializer, number: number, proto: proto, section: "", firstIndex: 0, path: "")
  }

  private mutating func visit(
    _ node: NodeProto, index k: Int, proto: @autoclosure () -> String, path: String,
    section: String, countOperators: Bool
  ) throws(ReadError) {
    // Made up only when needed: most nodes consume no initializer.
    var madeUpName: String?
    func nodeName() -> String {
      if !node.name.isEmpty { return node.name }
      if let madeUpName { return madeUpName }
      let name = "\(node.opType)_\(k)"
      madeUpName = name
      return name
    }
    let defaultDomain = node.domain.isEmpty || node.domain == "ai.onnx"
    if countOperators { count(defaultDomain ? node.opType : "\(node.domain).\(node.opType)") }

    // Tensors held in attributes.
    let isConstant = !node.attribute.isEmpty && defaultDomain && node.opType == "Constant"
    for (a, attribute) in node.attribute.enumerated() {
      func attributeProto() -> String { "\(proto()).attribute[\(a)]" }
      if isConstant {
        let name = try node.firstOutput(in: bytes).flatMap { $0.isEmpty ? nil : $0 }
        if let index = try addConstant(
          attribute, output: name, proto: attributeProto(),
          section: Self.join(section, "constant"))
        {
          if let name { bind(name, index) }
        }
        continue
      }
      var attributeSection: String { Self.join(section, "attribute") }
      if let t = attribute.t {
        _ = try add(
          t, name: t.name.isEmpty ? "\(nodeName()).\(attribute.name)" : t.name,
          proto: attributeProto() + ".t", section: attributeSection)
      }
      for (j, t) in attribute.tensors.enumerated() {
        _ = try add(
          t, name: t.name.isEmpty ? "\(nodeName()).\(attribute.name)[\(j)]" : t.name,
          proto: attributeProto() + ".tensors[\(j)]", section: attributeSection)
      }
      if let sparse = attribute.sparseTensor {
        _ = try add(
          sparse, name: sparse.name.isEmpty ? "\(nodeName()).\(attribute.name)" : sparse.name,
          proto: attributeProto() + ".sparse_tensor", section: attributeSection)
      }
      for (j, sparse) in attribute.sparseTensors.enumerated() {
        _ = try add(
          sparse,
          name: sparse.name.isEmpty ? "\(nodeName()).\(attribute.name)[\(j)]" : sparse.name,
          proto: attributeProto() + ".sparse_tensors[\(j)]", section: attributeSection)
      }
    }

    // Uses of tensors in scope.
    var attributes: [String: [Int]]?
    var inputs = try node.names(1, in: bytes)
    while let (j, input) = try inputs.next() {
      guard !input.isEmpty, let index = scope.index(ofUTF8: inputs.fields.raw(input)), index >= 0
      else { continue }
      if attributes == nil { attributes = Self.integerAttributes(node) }
      let use = OperatorUse(
        opType: node.opType, node: nodeName(), domain: node.domain, inputIndex: j,
        attributes: attributes ?? [:], graph: path)
      // Most tensors have one use: a literal allocates it exactly, without growing.
      if tensors[index].uses.isEmpty {
        tensors[index].uses = [use]
      } else {
        tensors[index].uses.append(use)
      }
      if j == 0, defaultDomain, Self.passThrough.contains(node.opType),
        let output = try node.firstOutput(in: self.bytes), !output.isEmpty
      {
        bind(output, index)
      }
    }

    // Subgraphs.
    for (a, attribute) in node.attribute.enumerated()
    where attribute.g != nil || !attribute.graphs.isEmpty {
      let base =
        path.isEmpty ? "\(nodeName())/\(attribute.name)" : "\(path)/\(nodeName())/\(attribute.name)"
      if let g = attribute.g {
        try walk(
          g, proto: "\(proto()).attribute[\(a)].g", path: base, countOperators: countOperators)
      }
      for (j, g) in attribute.graphs.enumerated() {
        try walk(
          g, proto: "\(proto()).attribute[\(a)].graphs[\(j)]", path: "\(base)[\(j)]",
          countOperators: countOperators)
      }
    }
  }

  /// Lists the nodes of a model-local function, which sees none of the model's names.
  mutating func walk(_ function: FunctionProto, proto: String) throws(ReadError) {
    let saved = scope
    let savedUndo = undo
    scope = NameScope()
    undo = []
    let path = "function \(function.domain.isEmpty ? "" : function.domain + ".")\(function.name)"
    for (k, node) in function.node.enumerated() {
      try visit(
        node, index: k, proto: "\(proto).node[\(k)]", path: path,
        section: Self.section(for: path), countOperators: false)
    }
    scope = saved
    undo = savedUndo
  }

  // MARK: Tensors

  /// Adds one tensor; returns its index.
  mutating func add(
    _ tensor: TensorProto, name: String, proto: @autoclosure () -> String, section: String
  ) throws(ReadError) -> Int {
    return try append(describe(tensor, name: name, section: section, proto: proto()))
  }

  /// Adds a sparse tensor: its dense shape and element count, `nnz` in the notes.
  mutating func add(
    _ sparse: SparseTensorProto, name: String, proto: @autoclosure () -> String, section: String
  ) throws(ReadError) -> Int {
    guard let values = sparse.values else {
      throw ReadError(
        .malformed, at: sparse.offset, "sparse tensor has no values",
        context: proto())
    }
    let dtype = try elementType(values, proto: proto() + ".values")
    let elements: Int
    do {
      elements = try elementCount(sparse.dims, at: sparse.offset)
    } catch {
      throw error.prefixed(proto() + ".dims")
    }
    let nnz = values.dims.first ?? 0
    var notes = ["sparse", "nnz=\(nnz)"]
    if let indices = sparse.indices {
      notes.append("indices=\(ONNXDataType.name(indices.dataType))\(shapeText(indices.dims))")
    }
    let stored = try describe(values, name: name, section: section, proto: proto() + ".values")
    notes.append("stored=\(stored.bytes)")
    let info = TensorInfo(
      name: name, shape: sparse.dims, dtype: dtype, elements: elements,
      bytes: dtype.byteCount(elements: elements) ?? 0, storage: stored.storage, uses: [],
      section: section, notes: notes + stored.notes)
    return try append(info)
  }

  private mutating func append(_ info: consuming TensorInfo) throws(ReadError) -> Int {
    guard tensors.count < limits.tensors else {
      throw ReadError(
        .limitExceeded, at: nil,
        "more than \(limits.tensors) tensors (Limits.tensors)")
    }
    tensors.append(info)
    return tensors.count - 1
  }

  /// Adds the tensor a `Constant` node's attribute holds, if it holds one.
  private mutating func addConstant(
    _ attribute: AttributeProto, output: String?, proto: @autoclosure () -> String, section: String
  ) throws(ReadError) -> Int? {
    if let t = attribute.t {
      return try add(t, name: output ?? t.name, proto: proto() + ".t", section: section)
    }
    if let sparse = attribute.sparseTensor {
      return try add(
        sparse, name: output ?? sparse.name, proto: proto() + ".sparse_tensor",
        section: section)
    }
    let shape: [Int]
    let dtype: DType
    switch attribute.name {
    case "value_float": (shape, dtype) = ([], .float32)
    case "value_floats": (shape, dtype) = ([attribute.floatsCount], .float32)
    case "value_int": (shape, dtype) = ([], .int64)
    case "value_ints": (shape, dtype) = ([attribute.intsCount], .int64)
    case "value_string": (shape, dtype) = ([], .string)
    case "value_strings": (shape, dtype) = ([attribute.stringsCount], .string)
    default: return nil
    }
    let elements = shape.first ?? 1
    return try append(
      TensorInfo(
        name: output ?? "", shape: shape, dtype: dtype, elements: elements,
        bytes: dtype.byteCount(elements: elements) ?? 0, section: section,
        notes: ["data=attribute \(attribute.name)"]))
  }

  private func elementType(_ tensor: TensorProto, proto: @autoclosure () -> String)
    throws(ReadError) -> DType
  {
    guard let dtype = ONNXDataType.dtype(tensor.dataType) else {
      let at = tensor.dataTypeOffset ?? tensor.offset
      if tensor.dataType == 0 {
        throw ReadError(.malformed, at: at, "data_type is UNDEFINED", context: proto())
      }
      throw ReadError(
        .unsupported, at: at, "unknown data_type \(tensor.dataType)",
        context: proto() + ".data_type")
    }
    return dtype
  }

  /// A tensor's description, with its data cross-checked against its shape and type.
  private mutating func describe(
    _ tensor: TensorProto, name: String, section: String, proto: @autoclosure () -> String
  ) throws(ReadError) -> TensorInfo {
    let dtype = try elementType(tensor, proto: proto())
    let elements: Int
    do {
      elements = try elementCount(tensor.dims, at: tensor.dimsOffset ?? tensor.offset)
    } catch {
      throw error.prefixed(proto() + ".dims")
    }
    let bytes: Int
    if dtype == .string {
      bytes = 0
    } else if let count = dtype.byteCount(elements: elements) {
      bytes = count
    } else {
      throw ReadError(
        .overflow, at: tensor.dimsOffset ?? tensor.offset,
        "size of \(elements) \(dtype.rawValue) elements overflows", context: proto() + ".dims")
    }
    // Gathered first and made into a TensorInfo once, at the end.
    var storage: TensorStorage?
    var notes: [String] = []
    // Built only for a finding: quoting every name would cost more than reading the tensor.
    func label() -> String { "\(quoted(name)) (\(dtype.rawValue)\(shapeText(tensor.dims)))" }

    if tensor.hasSegment {
      findings.append(
        Finding(
          .warning, "onnx.segment",
          "tensor \(label()) stores only a segment of its data; sizes describe the whole tensor",
          offset: tensor.offset))
    }
    if tensor.isExternal {
      try describeExternal(
        tensor, label: label(), expected: bytes, dtype: dtype, storage: &storage,
        notes: &notes, proto: proto())
    } else if let raw = tensor.rawData {
      storage = TensorStorage(key: "", recordBytes: raw.count, fileOffset: raw.lowerBound)
      if dtype == .string {
        findings.append(
          Finding(
            .error, "onnx.data-size",
            "string tensor \(label()) has raw_data, which strings may not use",
            offset: raw.lowerBound))
      } else if raw.count != bytes {
        findings.append(
          Finding(
            .error, "onnx.data-size",
            "tensor \(label()) needs \(bytes) bytes, raw_data has \(raw.count)",
            offset: raw.lowerBound))
      }
    } else if let field = tensor.typedField {
      notes.append("data=\(field.name)")
      checkTyped(tensor, field: field, dtype: dtype, elements: elements, label: label())
    } else if elements > 0 {
      findings.append(
        Finding(
          .warning, "onnx.data-missing",
          "tensor \(label()) has no data (no raw_data, typed data or external data)",
          offset: tensor.offset))
    }
    return TensorInfo(
      name: name, shape: tensor.dims, dtype: dtype, elements: elements, bytes: bytes,
      storage: storage, section: section, notes: notes)
  }

  private mutating func checkTyped(
    _ tensor: TensorProto, field: TensorProto.DataField, dtype: DType, elements: Int,
    label: @autoclosure () -> String
  ) {
    if tensor.mixedTypedFields {
      findings.append(
        Finding(
          .error, "onnx.data-field",
          "tensor \(label()) has values in more than one typed data field", offset: tensor.offset))
      return
    }
    guard
      let (expectedField, expectedCount) = ONNXDataType.typedField(for: dtype, elements: elements),
      expectedField == field
    else {
      findings.append(
        Finding(
          .error, "onnx.data-field",
          "tensor \(label()) stores its values in \(field.name), which cannot hold \(dtype.rawValue)",
          offset: tensor.offset))
      return
    }
    if !tensor.typedCount.contains(expectedCount) {
      let found =
        tensor.typedCount.lowerBound == tensor.typedCount.upperBound
        ? "\(tensor.typedCount.lowerBound)"
        : "\(tensor.typedCount.lowerBound)...\(tensor.typedCount.upperBound)"
      findings.append(
        Finding(
          .error, "onnx.data-size",
          "tensor \(label()) needs \(expectedCount) \(field.name) values, has \(found)",
          offset: tensor.offset))
    }
  }

  private mutating func describeExternal(
    _ tensor: TensorProto, label: @autoclosure () -> String, expected: Int, dtype: DType,
    storage: inout TensorStorage?, notes: inout [String],
    proto: @autoclosure () -> String
  ) throws(ReadError) {
    guard let location = tensor.external("location") else {
      findings.append(
        Finding(
          .error, "onnx.external-missing",
          "tensor \(label()) has external data without a location", offset: tensor.offset))
      return
    }
    let offsetText = tensor.external("offset")
    let lengthText = tensor.external("length")
    let offset = offsetText.map(parseDecimal) ?? 0
    let length = lengthText.map(parseDecimal)
    guard let offset, length.map({ $0 != nil }) ?? true else {
      findings.append(
        Finding(
          .error, "onnx.external-range",
          "tensor \(label()) has a bad external offset \(quoted(offsetText ?? "")) or length "
            + quoted(lengthText ?? ""),
          offset: tensor.offset))
      return
    }
    let declaredLength: Int? = length ?? nil
    notes.append("data=external")
    notes.append("location=\(location)")
    let lookup: ExternalDataResolver.Lookup
    do {
      lookup = try externals.lookup(location, at: tensor.offset)
    } catch {
      throw error.prefixed(proto() + ".external_data")
    }
    switch lookup {
    case .missing(let reason):
      storage = TensorStorage(key: location, recordBytes: declaredLength, fileOffset: offset)
      findings.append(
        Finding(
          .error, "onnx.external-missing",
          "tensor \(label()): external data \(reason)", offset: tensor.offset))
    case .file(let size):
      let recordBytes = declaredLength ?? max(0, size - offset)
      storage = TensorStorage(key: location, recordBytes: recordBytes, fileOffset: offset)
      let (end, overflow) = offset.addingReportingOverflow(recordBytes)
      if overflow || end > size {
        findings.append(
          Finding(
            .error, "onnx.external-range",
            "tensor \(label()): bytes \(offset)..<\(overflow ? "overflow" : String(end)) are past "
              + "the end of \(quoted(location)) (\(size) bytes)",
            offset: tensor.offset))
      } else if dtype != .string, recordBytes != expected {
        findings.append(
          Finding(
            .error, "onnx.data-size",
            "tensor \(label()) needs \(expected) bytes, external data has \(recordBytes)",
            offset: tensor.offset))
      }
    }
  }

  // MARK: Training

  /// Marks every tensor trainable or not, from the models's training information.
  ///
  /// `onnx.proto` makes the keys of `update_binding` the model's mutable initializers: a main
  /// graph initializer (dense or sparse) is trainable iff it is such a key. Keys that name
  /// initializers of a training algorithm graph are optimizer state and step counters, marked
  /// not trainable and noted `mutable`; every other tensor is not trainable.
  mutating func applyTraining(_ trainingInfo: [TrainingInfoProto]) {
    guard !trainingInfo.isEmpty else { return }
    var mutable: Set<String> = []
    for info in trainingInfo {
      for binding in info.updateBinding { mutable.insert(binding.key) }
    }
    for i in tensors.indices {
      let isMutable = mutable.contains(tensors[i].name)
      let isModelWeight = tensors[i].section.isEmpty
      tensors[i].declaredTrainable = isModelWeight && isMutable
      if isMutable, !isModelWeight { tensors[i].notes.append("mutable") }
    }
  }

  /// Whether `name` is an initializer of the main graph (after walking it with `keepScope`).
  func isMainInitializer(_ name: String) -> Bool {
    guard let index = scope[name], index >= 0, index < tensors.count else { return false }
    return tensors[index].section.isEmpty && tensors[index].name == name
  }

  // MARK: Helpers

  /// Binds `name` to tensor `index`; returns what it was bound to before.
  @discardableResult
  private mutating func bind(_ name: String, _ index: Int) -> Int? {
    let previous = scope.updateValue(index, forKey: name)
    if recordingUndo { undo.append((name, previous)) }
    return previous
  }

  private mutating func restore(to mark: Int) {
    while undo.count > mark, let (name, previous) = undo.popLast() {
      scope[name] = previous
    }
  }

  private mutating func count(_ op: String) {
    if let last = lastOperator, last.name == op {
      operatorCounts[last.index].1 += 1
      return
    }
    let index: Int
    if let known = operatorIndex[op] {
      index = known
      operatorCounts[index].1 += 1
    } else {
      index = operatorCounts.count
      operatorIndex[op] = index
      operatorCounts.append((op, 1))
    }
    lastOperator = (op, index)
  }

  static func integerAttributes(_ node: NodeProto) -> [String: [Int]] {
    var result: [String: [Int]] = [:]
    for attribute in node.attribute {
      if let values = attribute.integerValues { result[attribute.name] = values }
    }
    return result
  }

  /// A tensor's section from its graph's path: `""`, `subgraph Loop_0/body`, `function f`.
  static func section(for path: String) -> String {
    if path.isEmpty || path.hasPrefix("function ") || path.hasPrefix("training_info") {
      return path
    }
    return "subgraph " + path
  }

  static func join(_ section: String, _ part: String) -> String {
    section.isEmpty ? part : "\(section): \(part)"
  }

  private func graphDescription(_ path: String) -> String {
    path.isEmpty ? "the main graph" : path
  }
}

/// `[1,3,32,32]`.
func shapeText(_ dims: [Int]) -> String {
  "[" + dims.map(String.init).joined(separator: ",") + "]"
}
