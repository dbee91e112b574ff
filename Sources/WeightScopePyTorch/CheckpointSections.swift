import WeightScopeCore
import WeightScopeModel

/// Decides which top-level tensor collection of a checkpoint holds the model weights.
///
/// Rules, in order:
/// 1. A tensor stored directly under a top-level key (a plain state dict) belongs to the main
///    section `""`, and so does a collection under a dotted key: a state dict names module
///    state that way (`fc1._packed_params._packed_params` of a quantized Linear).
/// 2. A collection whose key starts with `optim` or contains `optimizer` is optimizer state:
///    its section is the key when the key says `optimizer`, else `optimizer`.
/// 3. Of the other collections, the main one is the first present of ``preferred``
///    (`state_dict`, `model_state_dict`, `model`, `module`, ...), else the one with the most
///    tensors (the first on a tie). Its section becomes `""`.
/// 4. Every other collection keeps its key as its section (`ema`, `teacher`): listed, and
///    not counted as parameters.
enum CheckpointSections {
  /// Keys that name the model weights, most specific first.
  static let preferred = [
    "state_dict", "model_state_dict", "model", "module", "net", "network", "model_ema", "ema",
    "ema_state_dict", "state_dict_ema", "params", "weights",
  ]

  /// Whether a top-level key names optimizer state.
  static func isOptimizer(_ key: String) -> Bool {
    let lower = key.lowercased()
    return lower.hasPrefix("optim") || lower.contains("optimizer")
  }

  /// Rewrites each tensor's section (its top-level key on entry) and describes the sections.
  /// The tensors come in parts that follow one another (the halves of a large state dict).
  ///
  /// - Returns: a `sections` fact, or nil when the file is a single collection.
  static func assign(_ parts: inout [[CheckpointWalker.FoundTensor]]) -> FileFact? {
    var order: [String] = []
    var counts: [String: Int] = [:]
    // By index throughout: a `for t in tensors` loop would copy every tensor. A tensor stored
    // directly under a top-level key, or in a collection under a dotted key, is in the main
    // section whatever the rest decide; the others are counted by key.
    for p in parts.indices {
      for i in parts[p].indices where !parts[p][i].section.isEmpty {
        let key = parts[p][i].section
        if hasDot(key) || parts[p][i].name == key {
          parts[p][i].section = ""
          continue
        }
        if counts[key] == nil { order.append(key) }
        counts[key, default: 0] += 1
      }
    }
    guard !order.isEmpty else { return nil }
    let models = order.filter { !isOptimizer($0) }
    var main = preferred.first { counts[$0] != nil }
    if main == nil {
      var best = 0
      for key in models where (counts[key] ?? 0) > best {
        best = counts[key] ?? 0
        main = key
      }
    }
    var elements: [String: Int] = [:]
    var optimizerLeaves: [String: Set<String>] = [:]
    for p in parts.indices {
      for i in parts[p].indices {
        let key = parts[p][i].section
        if !key.isEmpty && parts[p][i].name != key {
          let (sum, overflow) = elements[key, default: 0].addingReportingOverflow(
            (try? elementCount(parts[p][i].rebuild.shape)) ?? 0)
          elements[key] = overflow ? Int.max : sum
        }
        if key.isEmpty || parts[p][i].name == key || key == main {
          parts[p][i].section = ""
        } else if isOptimizer(key) {
          let section = key.lowercased().contains("optimizer") ? key : "optimizer"
          parts[p][i].section = section
          let leaf = parts[p][i].name.split(separator: ".").last.map(String.init) ?? ""
          optimizerLeaves[key, default: []].insert(leaf)
        }
      }
    }
    guard order != [main] else { return nil }
    let parts = order.map { key -> String in
      let count = counts[key] ?? 0
      let size = "\(count) tensors, \(elements[key] ?? 0) elements"
      if key == main { return "\(key) (\(size), model weights)" }
      if isOptimizer(key) {
        let leaves = optimizerLeaves[key] ?? []
        return "\(key) (\(size), optimizer state\(optimizerKind(leaves).map { ", " + $0 } ?? ""))"
      }
      return "\(key) (\(size), not counted)"
    }
    return FileFact("sections", parts.joined(separator: "; "))
  }

  /// Whether `key` has a `.`, searched in its bytes in place.
  private static func hasDot(_ key: String) -> Bool {
    key.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: ".")) }
      ?? key.utf8.contains(UInt8(ascii: "."))
  }

  /// The optimizer family its per-parameter state names: `Adam` for `exp_avg`/`exp_avg_sq`.
  static func optimizerKind(_ leaves: Set<String>) -> String? {
    if leaves.contains("exp_avg_sq") { return "Adam-style (exp_avg, exp_avg_sq, step)" }
    if leaves.contains("momentum_buffer") { return "SGD with momentum (momentum_buffer)" }
    if leaves.contains("square_avg") { return "RMSprop-style (square_avg)" }
    if leaves.contains("sum") { return "Adagrad-style (sum)" }
    return nil
  }
}
