import WeightScopeModel

/// A tensor a formula predicts: its name inside the layer, shape, role and trainability.
public struct ExpectedTensor: Sendable, Equatable, Codable {
  /// Name relative to the layer (`weight`, `weight_ih_l0`, `self_attn.in_proj_weight`).
  public var name: String
  public var shape: [Int]
  public var role: TensorRole
  public var trainable: Bool

  public init(_ name: String, _ shape: [Int], _ role: TensorRole, trainable: Bool = true) {
    self.name = name
    self.shape = shape
    self.role = role
    self.trainable = trainable
  }
}

/// Why a formula could not be evaluated: hyperparameters that do not fit, or a count that
/// does not fit in an `Int`.
public struct FormulaError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable, Equatable, Codable {
    case invalid, overflow
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}

/// A layer's parameter count as a person writes it by hand, with the tensors it implies.
///
/// A formula is a sum of terms; each term is trainable (weights, biases) or not (running
/// statistics, the batch counter). Built by the static functions in `Formula+Layers.swift`,
/// which follow PyTorch's semantics and defaults. Spelling, used throughout:
///
/// - Conv: `((kh*kw*d)+1)*k`, with `d` written `(in/groups)` when `groups` > 1, and without
///   the `+1` when there is no bias: `((3*3*3)+1)*32`, `((3*3*(64/64))+1)*64`, `(3*3*3)*32`.
/// - Linear: `(in*out)+out`, written with the input features first: `(4096*1024)+1024`.
/// - Everything else multiplies out its shapes: BatchNorm `2*64` trainable, `2*64` running
///   statistics and `1` for `num_batches_tracked`.
public struct Formula: Sendable, Equatable, Codable {
  /// One summand: `((3*3*3)+1)*32`, or `2*64` running statistics.
  public struct Term: Sendable, Equatable, Codable {
    public var text: String
    public var count: Int
    public var trainable: Bool
    public var tensors: [ExpectedTensor]

    public init(text: String, count: Int, trainable: Bool, tensors: [ExpectedTensor]) {
      self.text = text
      self.count = count
      self.trainable = trainable
      self.tensors = tensors
    }
  }

  public var kind: LayerKind
  public var terms: [Term]
  /// What the formula could not know or had to assume, in words.
  public var notes: [String]

  public init(kind: LayerKind, terms: [Term], notes: [String] = []) {
    self.kind = kind
    self.terms = terms
    self.notes = notes
  }

  /// Trainable elements predicted (weights and biases).
  public var trainable: Int { Formula.sum(terms.lazy.filter(\.trainable).map(\.count)) }
  /// Non-trainable elements predicted (running statistics, `num_batches_tracked`).
  public var nonTrainable: Int { Formula.sum(terms.lazy.filter { !$0.trainable }.map(\.count)) }
  /// Every element predicted: `trainable` + `nonTrainable`.
  public var total: Int { Formula.sum(terms.lazy.map(\.count)) }

  /// All terms joined with ` + `; `0` for a layer without parameters.
  public var text: String { Formula.join(terms) }
  /// The trainable terms joined with ` + `; `0` when there are none.
  public var trainableText: String { Formula.join(terms.filter(\.trainable)) }
  /// The non-trainable terms joined with ` + `; `0` when there are none.
  public var nonTrainableText: String { Formula.join(terms.filter { !$0.trainable }) }

  /// Every tensor the formula implies, in the order PyTorch registers them.
  public var tensors: [ExpectedTensor] { terms.flatMap(\.tensors) }

  /// The same formula with every tensor name prefixed (`self_attn.` + `in_proj_weight`).
  public func prefixed(_ prefix: String) -> Formula {
    var copy = self
    for t in copy.terms.indices {
      for e in copy.terms[t].tensors.indices {
        copy.terms[t].tensors[e].name = prefix + copy.terms[t].tensors[e].name
      }
    }
    return copy
  }

  static func join(_ terms: [Term]) -> String {
    terms.isEmpty ? "0" : terms.map(\.text).joined(separator: " + ")
  }

  /// A sum that saturates: the terms were each checked when built, and their sum too.
  static func sum<S: Sequence<Int>>(_ values: S) -> Int {
    var total = 0
    for v in values {
      let (s, o) = total.addingReportingOverflow(v)
      total = o ? Int.max : s
    }
    return total
  }
}

// MARK: - Checked arithmetic for hyperparameters

@inline(__always)
func mul(_ values: Int...) throws(FormulaError) -> Int {
  var product = 1
  for v in values {
    let (p, o) = product.multipliedReportingOverflow(by: v)
    if o { throw FormulaError(.overflow, "the product of \(values) overflows") }
    product = p
  }
  return product
}

@inline(__always)
func add(_ values: Int...) throws(FormulaError) -> Int {
  var total = 0
  for v in values {
    let (s, o) = total.addingReportingOverflow(v)
    if o { throw FormulaError(.overflow, "the sum of \(values) overflows") }
    total = s
  }
  return total
}

func product(_ values: [Int]) throws(FormulaError) -> Int {
  var p = 1
  for v in values { p = try mul(p, v) }
  return p
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FormulaError) {
  if !condition { throw FormulaError(.invalid, message()) }
}

/// `3*3*3`: factors joined with `*`.
func times(_ values: [Int]) -> String { values.map(String.init).joined(separator: "*") }
