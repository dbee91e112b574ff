/// A module with the per-sample shapes it takes and gives (batch dimension excluded).
public struct ShapedModule: Sendable, Equatable, Codable {
  public var path: String
  public var type: String
  public var input: [Int]
  public var output: [Int]
  /// Where the module was written.
  public var line: Int
  public var column: Int

  public init(path: String, type: String, input: [Int], output: [Int], line: Int, column: Int) {
    self.path = path
    self.type = type
    self.input = input
    self.output = output
    self.line = line
    self.column = column
  }
}

/// Every module's input and output shape for a per-sample `input` (batch dimension excluded),
/// in `named_modules()` order: a `Sequential` before its children, with its children's overall
/// shapes.
///
/// The formulas are PyTorch's. A batch dimension is assumed in front of every shape, so
/// `Flatten()` (start_dim 1) flattens the whole per-sample shape, and a layer's dimension
/// arguments (`start_dim`, `Unflatten.dim`) count the batch dimension as torch does.
///
/// Recurrent layers (`RNN`, `LSTM`, `GRU`) take a per-sample `(L, input_size)` whatever
/// `batch_first` says: `batch_first` only moves the batch dimension, which the shape excludes.
/// Their output is `(L, D * H_out)` for the `output` tensor of the tuple they return (`D` is 2
/// when bidirectional, `H_out` is `proj_size` when set). `MultiheadAttention` is shaped as
/// self-attention over `(L, embed_dim)` and keeps the shape, as do the Transformer layers
/// (the decoder's memory assumed to match).
///
/// - Throws: `.shape` naming the layer, the numbers that disagree, and where it was written;
///   `.argument` for an argument of the wrong kind.
public func outputShapes(_ spec: Spec, input: [Int]) throws(SpecError) -> [ShapedModule] {
  var result: [ShapedModule] = []
  _ = try ShapeInference(file: spec.file).run(spec.modules, input: input, into: &result)
  return result
}

extension Spec {
  /// ``outputShapes(_:input:)`` for this spec's own ``input``, or `input` when given.
  public func outputShapes(input: [Int]? = nil) throws(SpecError) -> [ShapedModule] {
    guard let shape = input ?? self.input else {
      throw SpecError(.shape, file: file, line: 0, column: 0, "no input shape given")
    }
    return try WeightScopeSpec.outputShapes(self, input: shape)
  }
}

struct ShapeInference {
  let file: String

  func run(
    _ modules: [SpecModule], input: [Int], into result: inout [ShapedModule]
  ) throws(SpecError) -> [Int] {
    var shape = input
    for module in modules {
      let slot = result.count
      result.append(
        ShapedModule(
          path: module.path, type: module.type, input: shape, output: shape, line: module.line,
          column: module.column))
      let output: [Int]
      if module.type == "Sequential" {
        output = try run(module.children, input: shape, into: &result)
      } else {
        output = try LayerShape(module: module, file: file, input: shape).output()
      }
      result[slot].output = output
      shape = output
    }
    return shape
  }
}

/// `3x32x32`: how shapes read in messages.
func shapeText(_ shape: [Int]) -> String {
  shape.isEmpty ? "()" : shape.map(String.init).joined(separator: "x")
}
