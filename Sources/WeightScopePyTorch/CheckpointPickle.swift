import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// Reads a `torch.save` `data.pkl`: what tensors it describes, never their values.
public enum CheckpointPickle {
  /// Interprets a `torch.save` `data.pkl`: runs the restricted machine, then walks the result.
  ///
  /// Tensors are named by their dotted path through nested dicts, lists and tuples
  /// (`layer1.0.conv1.weight`, `model.fc.bias`), in pickle order. Each top-level collection is
  /// a section, decided by ``CheckpointSections``: the model weights `""`, optimizer state,
  /// and secondary copies under their own key. A whole pickled module or a TorchScript object
  /// also gives its module tree. Only the pickle is read; `storages` answers the size of each
  /// storage record, which every tensor must fit.
  ///
  /// - Throws: ``ReadError`` with context `data.pkl` for a pickle that cannot be run, a tensor
  ///   whose storage record is missing or too small, or a malformed rebuild call.
  public static func read(
    _ pickle: ByteReader, storages: (String) -> StorageRecord?, limits: Limits
  ) throws(ReadError) -> CheckpointContents {
    if let walked = StateDictPickle.read(pickle, limits: limits) {
      do {
        return try read(walked, storages: storages)
      } catch {
        throw error.within("data.pkl")
      }
    }
    let (heap, tooMuch) = pickle.remaining.multipliedReportingOverflow(by: machineHeapPerByte)
    HeapReserve.expect(bytes: tooMuch ? .max : heap)
    let document: PickleDocument
    do {
      document = try PickleMachine.run(pickle, limits: limits)
    } catch {
      throw error.within("data.pkl")
    }
    return try read(run: consume document, storages: storages, limits: limits)
  }

  /// Bytes of heap per pickle byte that naming a state dict's tensors in one pass takes
  /// (``StateDictPickle``), for a reader to reserve before it starts (``HeapReserve``).
  public static let onePassHeapPerByte = 6
  /// What running the machine and walking its document takes beyond that, reserved when the
  /// one pass cannot read the pickle.
  static let machineHeapPerByte = 6

  /// ``read(_:storages:limits:)`` for a `data.pkl` that ``PickleMachine`` has already run.
  ///
  /// Takes the document: it is freed once walked, before the tensors are checked against their
  /// storage records, so that their list reuses the document's memory.
  public static func read(
    run document: consuming PickleDocument, storages: (String) -> StorageRecord?, limits: Limits
  ) throws(ReadError) -> CheckpointContents {
    let (globals, end) = (document.globals, document.endOffset)
    do {
      var contents = try read(document: consume document, storages: storages, limits: limits)
      contents.pickleGlobals = globals
      contents.pickleEnd = end
      return contents
    } catch {
      throw error.within("data.pkl")
    }
  }

  /// Interprets a pickle that has already been run; errors carry no `data.pkl` context.
  static func read(
    document: consuming PickleDocument, storages: (String) -> StorageRecord?, limits: Limits
  ) throws(ReadError) -> CheckpointContents {
    let (parts, walked) = try walk(consume document, limits: limits)
    return try check(WalkedParts(parts: parts), walked, storages: storages)
  }

  /// What ``StateDictPickle`` read, as the machine and the walk would give it; errors carry
  /// no `data.pkl` context.
  static func read(_ walked: StateDictPickle.Walked, storages: (String) -> StorageRecord?)
    throws(ReadError) -> CheckpointContents
  {
    var contents = CheckpointContents(facts: [], findings: globalFindings(walked.globals))
    contents.pickleGlobals = walked.globals
    contents.pickleEnd = walked.end
    return try check(walked, contents, storages: storages)
  }

  /// The found tensors checked against their storage records, into `walked`.
  private static func check<Found: FoundTensorList>(
    _ found: Found, _ walked: CheckpointContents, storages: (String) -> StorageRecord?
  ) throws(ReadError) -> CheckpointContents {
    var contents = walked
    let count = found.count
    // Records are looked up in order, here: a folder lookup starts after the entry found last.
    // So are the tensors that share a storage with an earlier one.
    var records: [StorageRecord?] = []
    records.reserveCapacity(count)  // One per tensor already found.
    contents.requiresGrad.reserveCapacity(count)
    var owners = StorageOwners()
    var sharing: [(tensor: Int, earlier: Int)] = []
    for i in 0..<count {
      found.withTensor(i) { _, rebuild, _, _ in
        records.append(storages(rebuild.storageKey))
        if let earlier = owners.first(on: rebuild.storageKey, tensor: i) {
          sharing.append((i, earlier))
        }
        contents.requiresGrad.append(rebuild.requiresGrad)
      }
    }
    let looked = records
    // Then each tensor is checked and made, the two halves of a large list at once; the first
    // failure in tensor order is the one thrown.
    let failures = Failures()
    let tensors = ForkJoin.map(count: count, split: count >= ForkJoin.worthwhile) { i in
      do throws(ReadError) {
        return try found.withTensor(i) { name, rebuild, section, declared throws(ReadError) in
          try resolve(name, rebuild, section: section, declaredParameter: declared, record: looked[i])
        }
      } catch {
        failures.record(error, at: i, of: count)
        return TensorInfo(name: "", shape: [], dtype: .uint8, elements: 0, bytes: 0)
      }
    }
    if let failure = failures.first { throw failure }
    contents.tensors = tensors
    for (tensor, earlier) in sharing where contents.tensors.indices.contains(earlier) {
      contents.tensors[tensor].sharedWith = contents.tensors[earlier].name
    }
    return contents
  }

  /// The first failure in each half of a list checked in two halves at once (as
  /// ``ForkJoin/map(count:split:_:)`` splits it): each half is recorded by the one thread that
  /// checks it, in order, and read after both are done.
  private final class Failures: @unchecked Sendable {
    private var lower: ReadError?
    private var upper: ReadError?

    func record(_ error: ReadError, at index: Int, of count: Int) {
      if index < count / 2 {
        if lower == nil { lower = error }
      } else {
        if upper == nil { upper = error }
      }
    }

    /// The failure of the lowest index.
    var first: ReadError? { lower ?? upper }
  }

  /// The tensors the document names, in parts that follow one another, with their sections
  /// decided, and everything else the walk learnt. The document ends here, with the walkers
  /// that hold it.
  private static func walk(_ document: consuming PickleDocument, limits: Limits) throws(ReadError)
    -> ([[CheckpointWalker.FoundTensor]], CheckpointContents)
  {
    var walker: CheckpointWalker
    var parts: [[CheckpointWalker.FoundTensor]]
    if let (first, second) = try CheckpointWalker.walkInHalves(document, limits: limits) {
      walker = first
      parts = [walker.tensors, second]
      walker.tensors = []
      _ = consume document
    } else {
      walker = CheckpointWalker(document: consume document, limits: limits)
      try walker.walk(walker.document.root, path: WalkPath(), section: "", declared: nil, depth: 0)
      parts = [walker.tensors]
      walker.tensors = []
    }
    if let sections = CheckpointSections.assign(&parts) {
      walker.facts.append(sections)
    }
    var contents = CheckpointContents(
      facts: walker.facts, findings: globalFindings(walker.document.globals) + walker.findings)
    contents.modules = walker.modules
    contents.moduleClasses = walker.moduleClasses
    if let root = walker.modules.first {
      let named = root.path.isEmpty ? root.className : "\(root.className) at \(root.path)"
      contents.facts.append(FileFact("modules", "\(walker.modules.count), root \(named)"))
    }
    return (parts, contents)
  }

  /// A finding for every distinct global that is not on the `torch.save` allowlist.
  static func globalFindings(_ globals: [PickleGlobalUse]) -> [Finding] {
    var seen: Set<PickleGlobal> = []
    var findings: [Finding] = []
    var scriptClasses: [String] = []
    for use in globals where !seen.contains(use.global) {
      seen.insert(use.global)
      // TorchScript classes are compiled from the archive's `code/`, never imported.
      if use.global.module == "__torch__" || use.global.module.hasPrefix("__torch__.")
        || use.global.module == "torch.jit._pickle"
      {
        scriptClasses.append(use.global.description)
        continue
      }
      let uses = globals.filter { $0.global == use.global }
      let called = uses.contains(where: \.called)
      let how =
        "\(use.route.rawValue) at \(hex(use.offset))"
        + (uses.count > 1 ? ", \(uses.count) uses" : "") + (called ? ", called" : ", not called")
      switch PickleGlobalPolicy.verdict(use.global) {
      case .allowed: break
      case .unknown:
        findings.append(
          Finding(
            .warning, "pickle.unknown-global",
            "global \(use.global) (\(how)) is not one torch.save writes for weights; "
              + "torch.load without weights_only would import it", offset: use.offset))
      case .dangerous(let effect):
        findings.append(
          Finding(
            .error, "pickle.dangerous-global",
            "global \(use.global) (\(how)) \(effect) when the file is loaded with pickle or "
              + "torch.load without weights_only", offset: use.offset))
      }
    }
    if !scriptClasses.isEmpty {
      findings.append(
        Finding(
          .info, "torchscript.classes",
          "\(scriptClasses.count) TorchScript classes and helpers (\(scriptClasses.prefix(3).joined(separator: ", "))"
            + (scriptClasses.count > 3 ? ", ..." : "")
            + "): torch.jit.load compiles the archive's code/, which this listing does not run"))
    }
    return findings
  }

  /// A found tensor checked against its storage record (nil when it is missing), its parts
  /// passed apart so that they are read in place rather than copied, with a reference count
  /// taken for each of their arrays.
  private static func resolve(
    _ name: String, _ rebuild: TensorRebuild, section: String, declaredParameter declared: Bool?,
    record: StorageRecord?
  ) throws(ReadError) -> TensorInfo {
    do throws(ReadError) {
      guard let record else {
        throw ReadError(
          .malformed, at: rebuild.offset, "storage record data/\(rebuild.storageKey) is missing")
      }
      let elements = try elementCount(rebuild.shape, at: rebuild.offset)
      let elementSize = (rebuild.dtype.bitWidth ?? 8) / 8
      guard let bytes = rebuild.dtype.byteCount(elements: elements) else {
        throw ReadError(
          .overflow, at: rebuild.offset,
          "byte size of \(elements) \(rebuild.dtype) elements overflows")
      }
      if elements > 0 {
        var extent = 1
        for (size, stride) in zip(rebuild.shape, rebuild.stride) {
          let span = try (size - 1).multiplying(stride, at: rebuild.offset, "extent")
          extent = try extent.adding(span, at: rebuild.offset, "extent")
        }
        let end = try rebuild.storageOffset.adding(extent, at: rebuild.offset, "storage end")
        let needed = try end.multiplying(elementSize, at: rebuild.offset, "storage bytes")
        guard needed <= record.byteCount else {
          throw ReadError(
            .malformed, at: rebuild.offset,
            "needs \(needed) bytes of storage data/\(rebuild.storageKey) (offset \(rebuild.storageOffset), "
              + "extent \(extent) elements of \(elementSize) bytes), the record has \(record.byteCount)"
          )
        }
      }
      var fileOffset: Int?
      if let base = record.fileOffset {
        let skip = try rebuild.storageOffset.multiplying(
          elementSize, at: rebuild.offset, "tensor offset")
        fileOffset = try base.adding(skip, at: rebuild.offset, "tensor offset")
      }
      let storage = TensorStorage(
        key: rebuild.storageKey, offsetElements: rebuild.storageOffset, stride: rebuild.stride,
        recordBytes: record.byteCount, fileOffset: fileOffset)
      var declaredParameter = rebuild.isParameter
      if declaredParameter == nil { declaredParameter = declared }
      return TensorInfo(
        name: name, shape: rebuild.shape, dtype: rebuild.dtype, elements: elements,
        bytes: bytes, storage: storage,
        declaredTrainable: rebuild.isParameter == true ? rebuild.requiresGrad : nil,
        declaredParameter: declaredParameter, section: section, notes: rebuild.notes)
    } catch {
      throw error.context.isEmpty ? error.within("tensor \(name)") : error
    }
  }
}
