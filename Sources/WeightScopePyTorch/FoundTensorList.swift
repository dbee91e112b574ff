/// The tensors a pickle names, read in place by position, for ``CheckpointPickle`` to check
/// against their storage records: the walk's lists, or what ``StateDictPickle`` read.
protocol FoundTensorList: Sendable {
  var count: Int { get }

  /// `body` of the tensor at `i`: its name, rebuild, section and declared parameter, lent
  /// rather than copied.
  func withTensor<Result, Failure: Error>(
    _ i: Int, _ body: (String, TensorRebuild, String, Bool?) throws(Failure) -> Result
  ) throws(Failure) -> Result
}

/// The walk's tensors: one list, or the two halves of a large state dict.
struct WalkedParts: FoundTensorList {
  var parts: [[CheckpointWalker.FoundTensor]]

  var count: Int { parts.reduce(0) { $0 + $1.count } }

  func withTensor<Result, Failure: Error>(
    _ i: Int, _ body: (String, TensorRebuild, String, Bool?) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    var (part, index) = (0, i)
    while part < parts.count - 1, index >= parts[part].count {
      index -= parts[part].count
      part += 1
    }
    return try body(
      parts[part][index].name, parts[part][index].rebuild, parts[part][index].section,
      parts[part][index].declaredParameter)
  }
}

extension StateDictPickle.Walked: FoundTensorList {
  var count: Int { names.count }

  func withTensor<Result, Failure: Error>(
    _ i: Int, _ body: (String, TensorRebuild, String, Bool?) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    var (list, index) = (0, Int(rebuildIndices[i]))
    while list < rebuilds.count - 1, index >= rebuilds[list].count {
      index -= rebuilds[list].count
      list += 1
    }
    // Every tensor is directly under a top-level key: in the main section, declaring nothing.
    return try body(names[i], rebuilds[list][index], "", nil)
  }
}
