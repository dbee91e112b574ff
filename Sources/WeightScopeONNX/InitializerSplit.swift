import WeightScopeCore
import WeightScopeModel

/// The first initializers of a large main graph, decoded, described and named on another core
/// while the listing's thread decodes the rest of the model (its nodes, mostly, and the other
/// initializers); the walk then takes the other core's tensors and names as they are and goes
/// on from there.
///
/// The main graph is the first one walked, so its initializers are the first tensors and the
/// first names in scope: the other core can list them on a collector of its own. Only a model
/// that reads whole this way is listed from it: a decoding error on either side, or more
/// messages on both together than the limit allows, and the model is read again in one pass,
/// which reports what that pass meets first.
final class InitializerSplit: @unchecked Sendable {
  /// What the walk throws when the other core's result cannot stand for the one pass.
  static let mustReadInOnePass = ReadError(
    .malformed, at: nil, "initializers decoded apart must be read again in one pass")

  /// Initializers decoded apart: fewer are not worth a thread.
  static let minimum = 2048

  /// What the other core made of the initializers.
  struct Listed: Sendable {
    /// The collector after adding the initializers, as the walk would have left it.
    var collector: TensorCollector
    /// The error adding them threw, which the walk throws in its place.
    var error: ReadError?
    /// Messages decoded, for the limit on the whole model.
    var messages = 0
    /// Whether every field decoded.
    var decoded = false
  }

  private let limits: Limits
  private let externals: ExternalDataResolver
  private let bytes: FileBytes
  /// The main graph's field path, for errors (`ModelProto.graph`).
  private let proto: String
  private var work: SideWork<Listed>?
  /// Whether initializers were handed to another core, joined since or not.
  private(set) var started = false
  /// How many initializers, the graph's first, are listed apart.
  private(set) var count = 0
  /// Messages the listing's thread decoded, set when the whole model is decoded.
  var mainMessages = 0

  init(limits: Limits, externals: ExternalDataResolver, bytes: FileBytes, proto: String) {
    self.limits = limits
    self.externals = externals
    self.bytes = bytes
    self.proto = proto
  }

  /// Hands the first of the initializers in `run`, which holds all `count` of the graph's
  /// initializers and nothing else, to another core; returns the range of their fields, which
  /// the graph's decode skips, or nil when the graph is not worth it.
  ///
  /// - Parameters:
  ///   - nodes: the graph's nodes, which this core decodes meanwhile.
  ///   - depth: the depth the graph's fields are decoded at.
  func start(run: Range<Int>, count: Int, nodes: Int, depth: Int) -> Range<Int>? {
    guard work == nil else { return nil }
    // The other core decodes, describes and names the first initializers; this one decodes the
    // nodes and the other initializers, then describes and names those once it has the first.
    // A node or an initializer takes about 3 units to decode, an initializer about 4 more to
    // describe and name: both cores are done decoding at about the same time when the other
    // takes this many.
    let taken = min(count, (3 * nodes + 3 * count) / 10)
    guard taken >= Self.minimum else { return nil }
    var fields = MessageReader(bytes, range: run)
    for _ in 0..<taken {
      guard let key = try? fields.nextKey(), (try? fields.skip(key)) != nil else { return nil }
    }
    let range = run.lowerBound..<fields.position
    let (limits, externals, bytes, proto) = (self.limits, self.externals, self.bytes, self.proto)
    // The other core's collector makes room for every initializer: the walk adds the rest
    // to its arrays and names, which then grow in place.
    work = SideWork {
      Self.list(
        range, count: taken, room: count, depth: depth, limits: limits, externals: externals,
        bytes: bytes, proto: proto)
    }
    guard work != nil else { return nil }
    started = true
    self.count = taken
    return range
  }

  /// The other core's result, once it is done; nil when it cannot stand for the one pass.
  func join() -> Listed? {
    defer { work = nil }
    guard let listed = work?.join(), listed.decoded,
      listed.messages <= limits.protobufMessages - mainMessages
    else { return nil }
    return listed
  }

  /// Waits for the other core, if it was started, and drops what it made.
  func cancel() {
    _ = work?.join()
    work = nil
  }

  /// Decodes the `count` initializer fields in `range` and adds each to a new collector, with
  /// room for `room` of them, as it comes.
  ///
  /// Once adding one fails, the rest are only decoded: a decoding error anywhere comes first.
  private static func list(
    _ range: Range<Int>, count: Int, room: Int, depth: Int, limits: Limits,
    externals: ExternalDataResolver, bytes: FileBytes, proto: String
  ) -> Listed {
    var listed = Listed(
      collector: TensorCollector(limits: limits, externals: externals, bytes: bytes))
    var state = ProtoState(limits: limits, depth: depth)
    var fields = MessageReader(bytes, range: range)
    var number = 0
    do {
      while let key = try fields.nextKey() {
        guard key.number == 5 else { return listed }
        let initializer = try fields.message(key, TensorProto.self, &state)
        if listed.error == nil {
          do {
            try listed.collector.addMainInitializer(
              initializer, number: number, expected: room, proto: proto)
          } catch {
            listed.error = error
          }
        }
        number += 1
      }
    } catch {
      return listed
    }
    listed.decoded = true
    listed.messages = state.messages
    return listed
  }
}
