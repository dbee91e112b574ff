import WeightScopeCore
import WeightScopeModel

/// The facts about a model as a whole that a report shows: versions, producer, inputs, outputs,
/// operators and metadata.
enum ModelFacts {
  static func facts(
    _ model: ModelProto, graph: GraphProto, isInitializer: (String) -> Bool,
    operators: [(String, Int)]
  ) -> [FileFact] {
    var facts: [FileFact] = []
    if let ir = model.irVersion { facts.append(FileFact("ir_version", String(ir))) }
    if !model.opsetImport.isEmpty {
      let opsets = model.opsetImport.map { opset in
        "\(opset.domain.isEmpty ? "ai.onnx" : opset.domain) \(opset.version)"
      }
      facts.append(FileFact("opsets", opsets.joined(separator: ", ")))
    }
    let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }
    if !producer.isEmpty { facts.append(FileFact("producer", producer.joined(separator: " "))) }
    if !model.domain.isEmpty { facts.append(FileFact("domain", model.domain)) }
    if let version = model.modelVersion, version != 0 {
      facts.append(FileFact("model_version", String(version)))
    }
    if !graph.name.isEmpty { facts.append(FileFact("graph", graph.name)) }
    // Before IR version 4 every initializer was also listed as an input: those are not inputs.
    for input in graph.input where !isInitializer(input.name) {
      facts.append(FileFact("input", describe(input)))
    }
    for output in graph.output { facts.append(FileFact("output", describe(output))) }
    if !operators.isEmpty {
      let text = operators.map { "\($0.0) ×\($0.1)" }.joined(separator: ", ")
      facts.append(FileFact("operators", text))
    }
    if !model.functions.isEmpty {
      facts.append(FileFact("functions", model.functions.map(\.name).joined(separator: ", ")))
    }
    if !model.trainingInfo.isEmpty {
      facts.append(FileFact("training_info", String(model.trainingInfo.count)))
    }
    for entry in model.metadataProps {
      facts.append(FileFact("metadata.\(entry.key)", entry.value))
    }
    return facts
  }

  /// `input.1: float32[1,3,32,32]`; symbolic dimensions by name, unknown ones as `?`.
  static func describe(_ value: ValueInfoProto) -> String {
    guard let type = value.type else { return value.name }
    return "\(value.name): \(describe(type))"
  }

  static func describe(_ type: ValueType) -> String {
    switch type {
    case .tensor(let elemType, let shape):
      return ONNXDataType.name(elemType) + (shape.map(describe) ?? "")
    case .sparseTensor(let elemType, let shape):
      return "sparse " + ONNXDataType.name(elemType) + (shape.map(describe) ?? "")
    case .sequence(let element):
      return "sequence(\(element.map(describe) ?? "?"))"
    case .optional(let element):
      return "optional(\(element.map(describe) ?? "?"))"
    case .map(let keyType, let value):
      return "map(\(ONNXDataType.name(keyType)), \(value.map(describe) ?? "?"))"
    case .opaque:
      return "opaque"
    case .unknown:
      return "?"
    }
  }

  static func describe(_ shape: [TensorShapeProto.Dimension]) -> String {
    let dims = shape.map { dim in
      switch dim {
      case .value(let value): String(value)
      case .param(let name): name
      case .unknown: "?"
      }
    }
    return "[" + dims.joined(separator: ",") + "]"
  }
}
