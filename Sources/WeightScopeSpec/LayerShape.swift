/// One layer's output shape from its input shape, by its ``ShapeRule``.
struct LayerShape {
  let module: SpecModule
  let file: String
  let input: [Int]

  // MARK: Errors and arguments

  func fail(_ message: String, kind: SpecError.Kind = .shape) -> SpecError {
    SpecError(
      kind, file: file, line: module.line, column: module.column,
      "\(module.type) `\(module.path)`: \(message)")
  }

  func value(_ name: String) -> SpecValue { module.arguments[name] ?? .none }

  func int(_ name: String) throws(SpecError) -> Int {
    guard case .int(let value) = value(name) else {
      throw fail("`\(name)` must be an integer, not \(value(name))", kind: .argument)
    }
    return value
  }

  func bool(_ name: String) throws(SpecError) -> Bool {
    guard case .bool(let value) = value(name) else {
      throw fail("`\(name)` must be True or False, not \(value(name))", kind: .argument)
    }
    return value
  }

  /// An int or a tuple of `count` ints, as `count` ints.
  func ints(_ name: String, count: Int) throws(SpecError) -> [Int] {
    switch value(name) {
    case .int(let value): return Array(repeating: value, count: count)
    case .tuple(let items) where items.count == count:
      var values: [Int] = []
      for item in items {
        guard case .int(let value) = item else { break }
        values.append(value)
      }
      if values.count == count { return values }
    default: break
    }
    throw fail(
      "`\(name)` must be an integer or a tuple of \(count), not \(value(name))", kind: .argument)
  }

  func positive(_ values: [Int], _ name: String) throws(SpecError) {
    for value in values where value <= 0 {
      throw fail("`\(name)` must be positive, not \(value)", kind: .argument)
    }
  }

  func nonNegative(_ values: [Int], _ name: String) throws(SpecError) {
    for value in values where value < 0 {
      throw fail("`\(name)` must not be negative, not \(value)", kind: .argument)
    }
  }

  func expectRank(_ ranks: [Int], _ what: String) throws(SpecError) {
    guard ranks.contains(input.count) else {
      throw fail("expects \(what), but its input is \(shapeText(input)) (\(input.count)-d)")
    }
  }

  /// Checked `a + b`, `a - b`, `a * b` on sizes, an error when they overflow.
  func add(_ a: Int, _ b: Int) throws(SpecError) -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw fail("size overflows", kind: .value) }
    return r
  }

  func subtract(_ a: Int, _ b: Int) throws(SpecError) -> Int {
    let (r, o) = a.subtractingReportingOverflow(b)
    if o { throw fail("size overflows", kind: .value) }
    return r
  }

  func multiply(_ a: Int, _ b: Int) throws(SpecError) -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw fail("size overflows", kind: .value) }
    return r
  }

  func product(_ dims: ArraySlice<Int>) throws(SpecError) -> Int {
    var total = 1
    for dim in dims { total = try multiply(total, dim) }
    return total
  }

  /// Floor division, as Python's `//`.
  func floorDivide(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
  }

  func checkOutput(_ output: [Int], _ why: String) throws(SpecError) -> [Int] {
    guard output.allSatisfy({ $0 > 0 }) else {
      throw fail(
        "output size \(shapeText(output)) is too small (input \(shapeText(input)); \(why))")
    }
    return output
  }

  // MARK: Rules

  func output() throws(SpecError) -> [Int] {
    guard let signature = LayerSignatures.signature(of: module.type) else {
      throw fail("unknown layer type", kind: .unknownLayer)
    }
    switch signature.shapeRule {
    case .same, .sequential: return input
    case .convolution(let dims): return try convolution(dims: dims)
    case .transposedConvolution(let dims): return try transposedConvolution(dims: dims)
    case .pool(let dims, let dilated): return try pool(dims: dims, dilated: dilated)
    case .adaptivePool(let dims): return try adaptivePool(dims: dims)
    case .linear: return try linear()
    case .bilinear:
      throw fail("takes two inputs, so it cannot follow another layer in nn.Sequential")
    case .embedding:
      return input + [try int("embedding_dim")]
    case .embeddingBag:
      try expectRank([1], "a bag of indices (1-d per sample)")
      return [try int("embedding_dim")]
    case .batchNorm(let dims): return try batchNorm(dims: dims)
    case .instanceNorm(let dims): return try instanceNorm(dims: dims)
    case .layerNorm: return try layerNorm()
    case .groupNorm: return try groupNorm()
    case .recurrent: return try recurrent()
    case .multiheadAttention: return try attention(width: "embed_dim", heads: "num_heads")
    case .transformerLayer: return try attention(width: "d_model", heads: "nhead")
    case .prelu: return try prelu()
    case .flatten: return try flatten()
    case .unflatten: return try unflatten()
    case .upsample: return try upsample()
    case .zeroPad(let dims): return try zeroPad(dims: dims)
    }
  }

  func channels(_ name: String) throws(SpecError) {
    let expected = try int(name)
    guard let channels = input.first, channels == expected else {
      throw fail(
        "\(name) is \(expected) but its input has \(input.first.map(String.init) ?? "no") channels"
          + " (input \(shapeText(input)))")
    }
  }

  func convolution(dims: Int) throws(SpecError) -> [Int] {
    try expectRank([dims + 1], "(channels, \(dims) spatial dimensions)")
    try channels("in_channels")
    let groups = try int("groups")
    try positive([groups], "groups")
    let inChannels = try int("in_channels")
    let outChannels = try int("out_channels")
    guard inChannels % groups == 0, outChannels % groups == 0 else {
      throw fail(
        "in_channels \(inChannels) and out_channels \(outChannels) must be divisible by groups \(groups)",
        kind: .argument)
    }
    let kernel = try ints("kernel_size", count: dims)
    let stride = try ints("stride", count: dims)
    let dilation = try ints("dilation", count: dims)
    try positive(kernel, "kernel_size")
    try positive(stride, "stride")
    try positive(dilation, "dilation")
    var output = [outChannels]
    switch value("padding") {
    case .string("same"):
      guard stride.allSatisfy({ $0 == 1 }) else {
        throw fail("padding='same' is not supported for strided convolutions", kind: .argument)
      }
      return output + input.dropFirst()
    case .string("valid"):
      for i in 0..<dims {
        output.append(try window(input[i + 1], kernel[i], stride[i], 0, dilation[i], ceil: false))
      }
    case .string(let other):
      throw fail(
        "padding must be 'same', 'valid', an integer or a tuple, not '\(other)'", kind: .argument)
    default:
      let padding = try ints("padding", count: dims)
      try nonNegative(padding, "padding")
      for i in 0..<dims {
        output.append(
          try window(input[i + 1], kernel[i], stride[i], padding[i], dilation[i], ceil: false))
      }
    }
    return try checkOutput(output, "kernel larger than the padded input")
  }

  /// `floor((in + 2p - d(k-1) - 1) / s) + 1`, or with `ceil` PyTorch's pooling rule: the last
  /// window must start inside the input or its left padding.
  func window(
    _ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int, ceil: Bool
  ) throws(SpecError) -> Int {
    let padded = try add(size, try multiply(2, padding))
    let span = try add(try multiply(dilation, kernel - 1), 1)
    let numerator = try subtract(padded, span)
    if !ceil { return floorDivide(numerator, stride) + 1 }
    var output = floorDivide(try add(numerator, stride - 1), stride) + 1
    if try multiply(output - 1, stride) >= (try add(size, padding)) { output -= 1 }
    return output
  }

  func transposedConvolution(dims: Int) throws(SpecError) -> [Int] {
    try expectRank([dims + 1], "(channels, \(dims) spatial dimensions)")
    try channels("in_channels")
    let kernel = try ints("kernel_size", count: dims)
    let stride = try ints("stride", count: dims)
    let padding = try ints("padding", count: dims)
    let outputPadding = try ints("output_padding", count: dims)
    let dilation = try ints("dilation", count: dims)
    try positive(kernel, "kernel_size")
    try positive(stride, "stride")
    try positive(dilation, "dilation")
    try nonNegative(padding, "padding")
    try nonNegative(outputPadding, "output_padding")
    var output = [try int("out_channels")]
    for i in 0..<dims {
      guard outputPadding[i] < max(stride[i], dilation[i]) else {
        throw fail("output_padding must be smaller than stride or dilation", kind: .argument)
      }
      // (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
      var size = try multiply(input[i + 1] - 1, stride[i])
      size = try subtract(size, try multiply(2, padding[i]))
      size = try add(size, try multiply(dilation[i], kernel[i] - 1))
      size = try add(try add(size, outputPadding[i]), 1)
      output.append(size)
    }
    return try checkOutput(output, "padding larger than the output")
  }

  func pool(dims: Int, dilated: Bool) throws(SpecError) -> [Int] {
    try expectRank([dims, dims + 1], "\(dims) spatial dimensions, channels optional")
    let kernel = try ints("kernel_size", count: dims)
    let stride = value("stride") == .none ? kernel : try ints("stride", count: dims)
    let padding = try ints("padding", count: dims)
    let dilation = dilated ? try ints("dilation", count: dims) : Array(repeating: 1, count: dims)
    let ceil = try bool("ceil_mode")
    try positive(kernel, "kernel_size")
    try positive(stride, "stride")
    try positive(dilation, "dilation")
    try nonNegative(padding, "padding")
    let lead = input.count - dims
    var output = Array(input.prefix(lead))
    for i in 0..<dims {
      guard padding[i] <= kernel[i] / 2 else {
        throw fail(
          "padding \(padding[i]) must be at most half of kernel_size \(kernel[i])", kind: .argument)
      }
      output.append(
        try window(input[lead + i], kernel[i], stride[i], padding[i], dilation[i], ceil: ceil))
    }
    return try checkOutput(output, "kernel larger than the padded input")
  }

  func adaptivePool(dims: Int) throws(SpecError) -> [Int] {
    try expectRank([dims, dims + 1], "\(dims) spatial dimensions, channels optional")
    let lead = input.count - dims
    let sizes: [SpecValue]
    switch value("output_size") {
    case .tuple(let items) where items.count == dims: sizes = items
    case let single where dims >= 1: sizes = Array(repeating: single, count: dims)
    default: sizes = []
    }
    var output = Array(input.prefix(lead))
    for (i, size) in sizes.enumerated() {
      switch size {
      case .int(let value) where value > 0: output.append(value)
      case .none: output.append(input[lead + i])
      default:
        throw fail(
          "output_size must be positive integers or None, not \(value("output_size"))",
          kind: .argument)
      }
    }
    return output
  }

  func linear() throws(SpecError) -> [Int] {
    let inFeatures = try int("in_features")
    guard let last = input.last, last == inFeatures else {
      throw fail(
        "in_features is \(inFeatures) but its input has \(input.last.map(String.init) ?? "no")"
          + " features (input \(shapeText(input)))")
    }
    return input.dropLast() + [try int("out_features")]
  }

  func batchNorm(dims: Int) throws(SpecError) -> [Int] {
    try expectRank(dims == 1 ? [1, 2] : [dims + 1], "(channels, \(dims) spatial dimensions)")
    try channels("num_features")
    return input
  }

  func instanceNorm(dims: Int) throws(SpecError) -> [Int] {
    try expectRank([dims + 1], "(channels, \(dims) spatial dimensions)")
    if try bool("affine") { try channels("num_features") }
    return input
  }

  func layerNorm() throws(SpecError) -> [Int] {
    let normalized: [Int]
    switch value("normalized_shape") {
    case .int(let value): normalized = [value]
    case .tuple(let items):
      normalized = items.compactMap(\.intValue)
      guard normalized.count == items.count else {
        throw fail("normalized_shape must be integers", kind: .argument)
      }
    default: throw fail("normalized_shape must be an integer or a tuple", kind: .argument)
    }
    guard input.count >= normalized.count, Array(input.suffix(normalized.count)) == normalized
    else {
      throw fail(
        "normalized_shape \(shapeText(normalized)) does not match the end of its input \(shapeText(input))"
      )
    }
    return input
  }

  func groupNorm() throws(SpecError) -> [Int] {
    guard !input.isEmpty else { throw fail("expects (channels, ...), but its input is ()") }
    let groups = try int("num_groups")
    let channelCount = try int("num_channels")
    try positive([groups], "num_groups")
    guard channelCount % groups == 0 else {
      throw fail(
        "num_channels \(channelCount) must be divisible by num_groups \(groups)", kind: .argument)
    }
    try channels("num_channels")
    return input
  }

  func recurrent() throws(SpecError) -> [Int] {
    try expectRank([2], "(sequence length, input_size)")
    let inputSize = try int("input_size")
    guard input[1] == inputSize else {
      throw fail(
        "input_size is \(inputSize) but its input has \(input[1]) features (input \(shapeText(input)))"
      )
    }
    let directions = try bool("bidirectional") ? 2 : 1
    let projection = module.arguments["proj_size"]?.intValue ?? 0
    let hidden = projection > 0 ? projection : try int("hidden_size")
    return [input[0], try multiply(directions, hidden)]
  }

  func attention(width name: String, heads headsName: String) throws(SpecError) -> [Int] {
    try expectRank([2], "(sequence length, \(name))")
    let width = try int(name)
    let heads = try int(headsName)
    try positive([heads], headsName)
    guard width % heads == 0 else {
      throw fail("\(name) \(width) must be divisible by \(headsName) \(heads)", kind: .argument)
    }
    guard input[1] == width else {
      throw fail(
        "\(name) is \(width) but its input has \(input[1]) features (input \(shapeText(input)))")
    }
    return input
  }

  func prelu() throws(SpecError) -> [Int] {
    let count = try int("num_parameters")
    if count != 1 {
      guard let channels = input.first, channels == count else {
        throw fail(
          "num_parameters is \(count) but its input has \(input.first.map(String.init) ?? "no") channels"
        )
      }
    }
    return input
  }

  /// A dimension argument counted on the batched tensor (rank `input.count + 1`), as an index
  /// into the per-sample shape.
  func sampleDimension(_ name: String, rank: Int) throws(SpecError) -> Int {
    let dim = try int(name)
    let normalized = dim < 0 ? dim + rank : dim
    guard normalized >= 0, normalized < rank else {
      throw fail("`\(name)` \(dim) is out of range for a \(rank)-d batched input", kind: .argument)
    }
    return normalized - 1
  }

  func flatten() throws(SpecError) -> [Int] {
    let rank = input.count + 1
    let start = try sampleDimension("start_dim", rank: rank)
    let end = try sampleDimension("end_dim", rank: rank)
    guard start <= end else {
      throw fail("start_dim comes after end_dim", kind: .argument)
    }
    if start == end { return input }
    guard start >= 0 else {
      throw fail(
        "flattens the batch dimension, which a per-sample shape cannot show", kind: .argument)
    }
    let merged = try product(input[start...end])
    return Array(input[..<start]) + [merged] + Array(input[(end + 1)...])
  }

  func unflatten() throws(SpecError) -> [Int] {
    let dim = try sampleDimension("dim", rank: input.count + 1)
    guard dim >= 0 else {
      throw fail(
        "unflattens the batch dimension, which a per-sample shape cannot show", kind: .argument)
    }
    guard case .tuple(let items) = value("unflattened_size") else {
      throw fail("unflattened_size must be a tuple", kind: .argument)
    }
    var sizes = items.compactMap(\.intValue)
    guard sizes.count == items.count, !sizes.isEmpty,
      sizes.allSatisfy({ $0 > 0 || $0 == -1 }), sizes.filter({ $0 == -1 }).count <= 1
    else {
      throw fail("unflattened_size must be positive integers with at most one -1", kind: .argument)
    }
    let known = try product(ArraySlice(sizes.filter { $0 != -1 }))
    if let inferred = sizes.firstIndex(of: -1) {
      guard input[dim] % known == 0 else {
        throw fail(
          "cannot unflatten \(input[dim]) into \(items.map(\.description).joined(separator: "x"))")
      }
      sizes[inferred] = input[dim] / known
    } else if known != input[dim] {
      throw fail("unflattened_size \(shapeText(sizes)) does not multiply to \(input[dim])")
    }
    return Array(input[..<dim]) + sizes + Array(input[(dim + 1)...])
  }

  func upsample() throws(SpecError) -> [Int] {
    guard input.count >= 2 else {
      throw fail("expects (channels, spatial dimensions...), but its input is \(shapeText(input))")
    }
    let spatial = input.count - 1
    let size = value("size")
    let scale = value("scale_factor")
    switch (size, scale) {
    case (.none, .none): throw fail("either size or scale_factor must be given", kind: .argument)
    case (.none, _):
      let factors: [Double]
      switch scale {
      case .tuple(let items):
        factors = items.compactMap(\.doubleValue)
        guard factors.count == items.count, factors.count == spatial else {
          throw fail("scale_factor must be a number or a tuple of \(spatial)", kind: .argument)
        }
      default:
        guard let factor = scale.doubleValue else {
          throw fail("scale_factor must be a number", kind: .argument)
        }
        factors = Array(repeating: factor, count: spatial)
      }
      var output = [input[0]]
      for (dim, factor) in zip(input.dropFirst(), factors) {
        let scaled = (Double(dim) * factor).rounded(.down)
        guard factor > 0, scaled >= 1, scaled < 9.0e15 else {
          throw fail("scale_factor \(factor) gives no valid size for \(dim)", kind: .argument)
        }
        output.append(Int(scaled))
      }
      return output
    case (_, .none):
      let sizes = try ints("size", count: spatial)
      try positive(sizes, "size")
      return [input[0]] + sizes
    default: throw fail("only one of size and scale_factor may be given", kind: .argument)
    }
  }

  func zeroPad(dims: Int) throws(SpecError) -> [Int] {
    try expectRank(Array(dims...(dims + 1)), "\(dims) spatial dimensions, channels optional")
    let padding = try ints("padding", count: 2 * dims)
    var output = input
    // (left, right, top, bottom, front, back): pairs apply from the last dimension backwards.
    for pair in 0..<dims {
      let dim = input.count - 1 - pair
      output[dim] = try add(output[dim], try add(padding[2 * pair], padding[2 * pair + 1]))
    }
    return try checkOutput(output, "negative padding larger than the input")
  }
}
