import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// A large state dict's pickle read in two parts at once.
///
/// `torch.save` writes the root's items in batches of a thousand (MARK, keys and tensors,
/// SETITEMS), and between two batches only the root is on the stack. A second machine starts
/// at such a place past the middle while the first runs up to it. What the second recalls
/// from the memo before its start (the rebuild function, `storage`, the storage classes, a
/// storage key shared with an earlier tensor) it cannot see: it records each such value as
/// taken on trust, with the use it made of it, and the join checks each against the first
/// machine's memo. Any doubt (the first machine never stops there, the second does not reach
/// STOP, a value is not what it was taken for, the limits together are passed) drops the
/// second part, and the first machine goes on alone from where it stopped, as one pass would.
extension StateDictPickle {
  /// Pickles this large are read in two parts: about ten thousand tensors.
  static let partsWorthwhile = 1 << 20

  /// Reads `bytes` in one pass, or in two parts at once when at least `worthwhile` bytes;
  /// `joined` says whether the two parts were used.
  static func readInParts(
    _ bytes: UnsafeRawBufferPointer, base: Int, limits: Limits,
    worthwhile: Int = partsWorthwhile
  ) -> (walked: Walked?, joined: Bool) {
    guard bytes.count >= worthwhile, let split = splitPoint(bytes) else {
      var machine = Machine(bytes: bytes, base: base, limits: limits)
      return (machine.run() == .stopped ? machine.walked() : nil, false)
    }
    // Each machine's buffers are sized for its part: the first grows if it has to go on.
    var first = Machine(bytes: bytes, base: base, limits: limits, sizedTo: split)
    let shared = SharedBytes(bytes: bytes)
    let (finish, second) = ForkJoin.run(
      split: true,
      side: { () -> Part? in
        var machine = Machine(bytes: shared.bytes, base: base, limits: limits, from: split)
        return machine.run() == .stopped ? machine.part() : nil
      },
      main: { first.run(pausingAt: split) })
    switch finish {
    case .stopped: return (first.walked(), false)
    case .unfollowed: return (nil, false)
    case .paused:
      if let second, let joined = join(&first, second, limits: limits) { return (joined, true) }
      return (first.run() == .stopped ? first.walked() : nil, false)
    }
  }

  /// The first place past the middle where a SETITEMS byte is followed by a MARK and a text
  /// opcode (BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, SHORT_BINSTRING): where one batch of
  /// the root's items may end and the next begin with its first key. Only the first machine
  /// stopping there with the root alone on its stack shows that it is such a place.
  static func splitPoint(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var i = bytes.count / 2
    while i + 2 < bytes.count {
      if bytes[i] == 0x75, bytes[i + 1] == 0x28 {
        switch bytes[i + 2] {
        case 0x58, 0x8c, 0x8d, 0x55: return i + 1
        default: break
        }
      }
      i += 1
    }
    return nil
  }

  /// What a second machine read, kept once it has stopped.
  struct Part {
    var entries: [Entry]
    var rebuilds: [TensorRebuild]
    var globals: [PickleGlobalUse]
    var keyHashes: [UInt64]
    var deferred: [Deferred]
    var memoBase: Int?
    var memoCount: Int
    var opcodeCount: Int
    /// Whether BUILD set the root's state.
    var builtRoot: Bool
    /// Where it stopped, just past STOP.
    var end: Int
  }

  /// The first machine, paused where the second started, and the second's part as one pass
  /// over the whole would have read them; nil when anything the second took on trust is not
  /// so, or the two together pass a limit.
  static func join(_ first: inout Machine, _ second: Part, limits: Limits) -> Walked? {
    let (opcodes, tooMany) = first.opcodeCount.addingReportingOverflow(second.opcodeCount)
    guard !tooMany, opcodes <= limits.pickleOpcodes,
      second.memoBase == nil || second.memoBase == first.memo.count,
      first.memo.count <= limits.pickleMemoEntries - second.memoCount,
      first.entries.count <= limits.tensors - second.entries.count,
      !second.builtRoot || first.rootIsObject
    else { return nil }
    var rebuilds = second.rebuilds
    var globals = first.globals
    for taken in second.deferred {
      guard taken.memoIndex < first.memo.count else { return nil }
      let value = first.memo[taken.memoIndex]
      switch (taken.use, value) {
      case (_, .tuple), (_, .persistentID):
        // One pass does not recall these.
        return nil
      case (.rebuildCall, .global(let use)):
        guard first.functions[Int(use)] == .tensorV2 else { return nil }
        globals[Int(use)].called = true
      case (.rebuildCall, _):
        return nil
      case (.otherCall, .global(let use)):
        // A global that is no rebuild function makes an object, the root being made.
        guard first.functions[Int(use)] == nil else { return nil }
        globals[Int(use)].called = true
      case (.otherCall, _):
        break
      case (.storageTag, .text(let offset, let count)):
        guard first.isStorageTag(offset, count) else { return nil }
      case (.storageType, .global(let use)):
        guard case .some(.some(let dtype)) = first.storageTypes[Int(use)] else { return nil }
        rebuilds[taken.rebuild].dtype = dtype
      case (.storageKey, .text(let offset, let count)):
        rebuilds[taken.rebuild].storageKey = first.string(Int(offset), Int(count))
      case (.storageKey, .int(let number)):
        rebuilds[taken.rebuild].storageKey = String(number)
      case (.storageTag, _), (.storageType, _), (.storageKey, _):
        return nil
      }
    }
    guard first.rebuilds.count <= Int(Int32.max) - rebuilds.count else { return nil }
    // Repeated keys are looked for on the other core while the tensors are named here.
    let hashes = first.keyHashes + second.keyHashes
    let (walked, repeats) = ForkJoin.run(
      split: hashes.count >= ForkJoin.worthwhile, side: { PickleKeyIndex.hasRepeats(hashes) },
      main: { () -> Walked in
        // The second part's rebuilds are numbered after the first's.
        let shift = Int32(first.rebuilds.count)
        var indices = first.entries.map(\.rebuild)
        indices.reserveCapacity(indices.count + second.entries.count)
        for entry in second.entries { indices.append(entry.rebuild + shift) }
        var names: [String] = []
        names.reserveCapacity(indices.count)
        first.appendNames(of: first.entries, to: &names)
        first.appendNames(of: second.entries, to: &names)
        return Walked(
          names: names, rebuildIndices: indices, rebuilds: [first.rebuilds, rebuilds],
          globals: globals + second.globals, end: first.base + second.end)
      })
    return repeats ? nil : walked
  }

  /// The pickle's bytes, read by both machines and changed by neither.
  private struct SharedBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
  }
}

extension StateDictPickle.Machine {
  /// What one pass names, once this machine has stopped; nil for a repeated key.
  func walked() -> StateDictPickle.Walked? {
    // Repeated keys are looked for on the other core while the tensors are named here.
    let hashes = keyHashes
    let (walked, repeats) = ForkJoin.run(
      split: hashes.count >= ForkJoin.worthwhile, side: { PickleKeyIndex.hasRepeats(hashes) },
      main: { () -> StateDictPickle.Walked in
        var names: [String] = []
        names.reserveCapacity(entries.count)
        appendNames(of: entries, to: &names)
        return StateDictPickle.Walked(
          names: names, rebuildIndices: entries.map(\.rebuild), rebuilds: [rebuilds],
          globals: globals, end: base + position)
      })
    return repeats ? nil : walked
  }

  /// What a second machine read, once it has stopped.
  func part() -> StateDictPickle.Part {
    StateDictPickle.Part(
      entries: entries, rebuilds: rebuilds, globals: globals, keyHashes: keyHashes,
      deferred: deferred, memoBase: memoBase, memoCount: memo.count, opcodeCount: opcodeCount,
      builtRoot: rootIsObject, end: position)
  }
}
