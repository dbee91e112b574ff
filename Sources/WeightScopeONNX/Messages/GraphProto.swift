import WeightScopeCore

/// A computation graph: nodes, initializers, inputs and outputs (`onnx.proto` `GraphProto`).
struct GraphProto: ProtoMessage {
  var offset = 0
  var node: [NodeProto] = []
  var name = ""
  var initializer: [TensorProto] = []
  var sparseInitializer: [SparseTensorProto] = []
  var input: [ValueInfoProto] = []
  var output: [ValueInfoProto] = []
  /// Entries in `value_info`; they are decoded (and so checked) but not kept.
  var valueInfoCount = 0
  /// The fields of the first initializers, listed on another core (`InitializerSplit`) and
  /// skipped here; `initializer` then holds the ones after them.
  private(set) var apart: Range<Int>?
  /// While decoding: the pages the walk over initializers has mapped.
  private var footprint: MappedFootprint?
  private var lastInitializer = 0

  static func fieldName(_ number: Int) -> String? {
    switch number {
    case 1: "node"
    case 2: "name"
    case 5: "initializer"
    case 10: "doc_string"
    case 11: "input"
    case 12: "output"
    case 13: "value_info"
    case 14: "quantization_annotation"
    case 15: "sparse_initializer"
    case 16: "metadata_props"
    default: nil
    }
  }

  mutating func begin(_ fields: MessageReader, _ state: inout ProtoState) {
    offset = fields.position
    // A graph of a few megabytes is read whole below: mapped in one request rather than with
    // a fault per page. Larger graphs hold large payloads, which a listing never reads.
    // Its first fields (the nodes, as exporters write them) are read together too.
    if fields.remaining <= 16 << 20 {
      fields.bytes.willNeed(fields.position..<fields.end)
    } else {
      fields.bytes.willNeed(fields.position..<(fields.position + (64 << 10)))
    }
    // Room for the nodes and initializers the graph holds, counted by their keys: a count of
    // fields present (each takes two bytes or more), never one the file declares. Any error
    // stops the count; decoding the fields then reports it.
    var scan = fields
    var nodes = 0
    var initializers = 0
    // Each field's key is where the previous field's payload ends: on a cold cache, one disk
    // read after another unless the next keys are guessed and asked for ahead.
    var readAhead = HeaderReadAhead(fields.bytes)
    var scanned = MappedFootprint(fields.bytes, from: fields.position)
    // The first run of initializer fields with nothing else between them, and whether every
    // field was counted.
    var run = 0..<0
    var runCount = 0
    var counted = false
    while true {
      let position = scan.position
      let started = readAhead.willRead(at: position)
      let next: FieldKey?
      do { next = try scan.nextKey() } catch { break }
      guard let key = next else {
        counted = true
        break
      }
      if readAhead.didRead(at: position, started: started) {
        scanned.landed(at: position)
        // Headers here map the payloads around them: counting would map every header twice,
        // and the arrays can grow instead.
        if scanned.mapsAround == true { break }
      }
      if key.number == 1 {
        nodes += 1
      } else if key.number == 5 {
        initializers += 1
      }
      guard (try? scan.skip(key)) != nil else { break }
      if key.number == 5, runCount == 0 || run.upperBound == position {
        run = (runCount == 0 ? position : run.lowerBound)..<scan.position
        runCount += 1
      }
    }
    // Decoding walks the same headers again.
    footprint = scanned.restarted(from: fields.position)
    lastInitializer = fields.position
    // Decoding, collecting and analysing take about 300 bytes of heap per node or initializer.
    HeapReserve.expect(bytes: min(nodes + initializers, state.remainingMessages) * 300)
    // Each is a message, so no more than the limit lets through.
    node.reserveCapacity(min(nodes, state.remainingMessages))
    // The main graph of a model read in one go (a few megabytes at most, so no read-ahead)
    // may hand its first initializers, when they are all in one run, to another core.
    if counted, state.depth == 2, fields.remaining <= 16 << 20, runCount == initializers,
      let split = state.split
    {
      apart = split.start(run: run, count: initializers, nodes: nodes, depth: state.depth)
    }
    let apartCount = apart == nil ? 0 : state.split?.count ?? 0
    initializer.reserveCapacity(min(initializers - apartCount, state.remainingMessages))
  }

  mutating func decode(_ key: FieldKey, _ fields: inout MessageReader, _ state: inout ProtoState)
    throws(ReadError)
  {
    switch key.number {
    case 1: node.append(try fields.message(key, NodeProto.self, &state, "[\(node.count)]"))
    case 2: name = try fields.string(key)
    case 5:
      if let apart, key.offset == apart.lowerBound {
        try fields.jump(to: apart.upperBound)
        return
      }
      let start = fields.position
      initializer.append(
        try fields.message(key, TensorProto.self, &state, "[\(initializer.count)]"))
      if start - lastInitializer >= HeaderReadAhead.longJump { footprint?.landed(at: start) }
      lastInitializer = start
    case 11: input.append(try fields.message(key, ValueInfoProto.self, &state, "[\(input.count)]"))
    case 12:
      output.append(try fields.message(key, ValueInfoProto.self, &state, "[\(output.count)]"))
    case 13:
      _ = try fields.message(key, ValueInfoProto.self, &state, "[\(valueInfoCount)]")
      valueInfoCount += 1
    case 15:
      sparseInitializer.append(
        try fields.message(key, SparseTensorProto.self, &state, "[\(sparseInitializer.count)]"))
    default: try fields.skip(key)
    }
  }
}
