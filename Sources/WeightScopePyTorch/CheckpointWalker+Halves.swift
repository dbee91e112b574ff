import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

extension CheckpointWalker {
  /// What walking the second half of a state dict found, without the walker (and its copy of
  /// the document), which ends on the thread that walked.
  struct SecondHalf {
    var tensors: [FoundTensor]
    var facts: [FileFact]
    var findings: [Finding]
    var modules: [ModuleInfo]
    var moduleClasses: [PickleGlobal]
    /// The nodes the walk entered (``walked``).
    var walked: [Bool]
  }

  /// Walks a large state dict in two halves at once: the first here, the second on another
  /// thread with a walker of its own.
  ///
  /// Returns the first walker, holding the facts, findings and modules of both halves in
  /// pickle order, and the second half's tensors, which follow the first walker's.
  ///
  /// Nil when the walk is not split, or when the halves might disagree with one walk of the
  /// whole: the root is not a dict of at least ``ForkJoin/worthwhile`` entries, the second
  /// half fails, both halves entered one container (a single walk enters it once), or together
  /// they pass ``Limits/tensors``. The caller then walks the whole, which finds the same
  /// tensors and the first error. An error in the first half is the whole walk's first error,
  /// and is thrown.
  static func walkInHalves(_ document: PickleDocument, limits: Limits) throws(ReadError)
    -> (first: CheckpointWalker, second: [FoundTensor])?
  {
    var first = CheckpointWalker(document: document, limits: limits)
    guard let (root, entries) = try first.enterRootDict(),
      entries.count >= ForkJoin.worthwhile
    else { return nil }
    let half = entries.count / 2
    let (firstFailure, second) = ForkJoin.run(
      split: true,
      side: { () -> SecondHalf? in
        var walker = CheckpointWalker(document: document.forAnotherThread(), limits: limits)
        do throws(ReadError) {
          guard let (_, entries) = try walker.enterRootDict() else { return nil }
          try walker.walk(
            entries: entries, range: half..<entries.count, path: WalkPath(), section: "",
            declared: nil, depth: 0)
        } catch {
          return nil
        }
        return SecondHalf(
          tensors: walker.tensors, facts: walker.facts, findings: walker.findings,
          modules: walker.modules, moduleClasses: walker.moduleClasses, walked: walker.walked)
      },
      main: { () -> ReadError? in
        do throws(ReadError) {
          try first.walk(
            entries: entries, range: 0..<half, path: WalkPath(), section: "", declared: nil,
            depth: 0)
          return nil
        } catch {
          return error
        }
      })
    if let firstFailure { throw firstFailure }
    guard let second, second.tensors.count <= limits.tensors - first.tensors.count,
      !first.enteredAny(of: second.walked, besides: root)
    else { return nil }
    first.facts += second.facts
    first.findings += second.findings
    first.modules += second.modules
    first.moduleClasses += second.moduleClasses
    return (first, second.tensors)
  }

  /// Enters the root as ``walk(_:path:section:declared:depth:)`` does, when it is a dict or a
  /// dict-making call that is not a tensor: its node and entries; nil for any other root.
  private mutating func enterRootDict() throws(ReadError) -> (Int, PickleDictEntries)? {
    let root = document.root
    guard case .node(let id) = root, walked.indices.contains(id.index),
      try tensor(root, name: "") == nil
    else { return nil }
    let entries: PickleDictEntries
    switch document[id] {
    case .dict(let items): entries = items
    case .object(let object):
      guard let callable = object.callableGlobal, Self.isDictCall((callable.module, callable.name))
      else { return nil }
      entries = object.items
    default: return nil
    }
    walked[id.index] = true
    return (id.index, entries)
  }

  /// Whether this walker and one that recorded `other` both entered a node besides `root`.
  private func enteredAny(of other: [Bool], besides root: Int) -> Bool {
    guard walked.count == other.count else { return true }
    return walked.withUnsafeBufferPointer { mine in
      other.withUnsafeBufferPointer { theirs in
        mine.indices.contains { $0 != root && mine[$0] && theirs[$0] }
      }
    }
  }
}
