import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// The common checkpoint read in one pass: a pickle whose value is a dict (or `OrderedDict`)
/// of `_rebuild_tensor_v2` calls, which is what `torch.save(model.state_dict())` writes.
///
/// ``PickleMachine`` builds a document of every value and ``CheckpointWalker`` then names the
/// tensors in it; here each tensor is named as its call is read, and nothing the walk would
/// not read is kept. The result is the walk's, exactly: anything this reader does not follow
/// the way the machine and the walker would (another opcode, a nested collection, a key that
/// is not ASCII text, a repeated key, a malformed call, a limit reached) gives nil, and the
/// whole machine runs instead, errors and all. It never throws.
enum StateDictPickle {
  /// What a state-dict pickle names: its tensors, in pickle order, every global it
  /// referenced, and the offset just past its STOP.
  ///
  /// Every tensor is directly under a top-level key, so all are in the main section `""`, as
  /// ``CheckpointSections`` decides for such a tensor, and there is no `sections` fact.
  ///
  /// The rebuilds stay in the lists the machines read them into, and each tensor points into
  /// them: a list of found tensors, each a copy of its rebuild, would be a second copy of
  /// them all (14 MB at 100,000 tensors), made while the first is still held.
  struct Walked: Equatable, Sendable {
    /// Each tensor's name: its key.
    var names: [String]
    /// Each tensor's rebuild, numbered through `rebuilds` one list after another.
    var rebuildIndices: [Int32]
    /// What each machine read: one list, or the two parts'.
    var rebuilds: [[TensorRebuild]]
    var globals: [PickleGlobalUse]
    var end: Int

    /// The tensors as the walk finds them.
    var tensors: [CheckpointWalker.FoundTensor] {
      names.indices.map { i in
        withTensor(i) { name, rebuild, section, declared in
          CheckpointWalker.FoundTensor(
            name: name, rebuild: rebuild, section: section, declaredParameter: declared)
        }
      }
    }

    /// The same tensors, globals and end, however the pickle was split.
    static func == (a: Walked, b: Walked) -> Bool {
      a.globals == b.globals && a.end == b.end && a.tensors == b.tensors
    }
  }

  /// Reads the pickle at `reader`'s position; nil when it is not a state dict this reader
  /// follows exactly.
  static func read(_ reader: ByteReader, limits: Limits) -> Walked? {
    guard limits.objectDepth >= 1, reader.remaining > 0, reader.remaining < Int32.max,
      let bytes = try? reader.peekBytes(at: reader.position, count: reader.remaining)
    else { return nil }
    return withExtendedLifetime(reader) {
      readInParts(bytes, base: reader.position, limits: limits).walked
    }
  }

  /// A value on the stack or in the memo: scalars as they are, text and tuples as ranges,
  /// the root collection by role, any other collection as an opaque mark.
  enum Value {
    case none
    case bool(Bool)
    case int(Int64)
    // Positions are 32-bit (a pickle past 2 GiB is left to the machine), so that a value
    // takes 16 bytes: a memo holds one per memoized value. Every count of items, globals and
    // tensors is at most the number of opcodes, less than the pickle's size.
    /// Text at `offset` (in `bytes`) of `count` bytes.
    case text(offset: Int32, count: Int32)
    /// A global, by its index in the uses.
    case global(Int32)
    /// Items `start..<start+count` of the tuple items; released once the root takes a batch.
    case tuple(start: Int32, count: Int32)
    /// A persistent id whose id is the tuple `start..<start+count`.
    case persistentID(start: Int32, count: Int32)
    /// A tensor, by its index in the rebuilds read.
    case tensor(Int32)
    /// The collection the pickle returns; `isObject` for a dict-making call (`OrderedDict()`).
    case root(isObject: Bool)
    /// Any other dict or object: only a tensor's hooks or the root's `_metadata` state, which
    /// the walk never reads.
    case dict
    case object
    /// For a machine that starts partway through a pickle: the value memoized at this index
    /// before its start, checked when the parts are joined.
    case external(Int32)
  }

  /// A key the root took: its text, and the rebuild it names.
  struct Entry {
    var keyOffset: Int32
    var keyCount: Int32
    var rebuild: Int32
  }

  /// What a machine that starts partway through a pickle took on trust from the part before:
  /// the memo index it recalled, and what the value there must be.
  struct Deferred {
    enum Use {
      /// The callable of a rebuild call: `_rebuild_tensor_v2`.
      case rebuildCall
      /// The callable of a call that is not a rebuild: anything else.
      case otherCall
      /// A persistent id's tag: the text `storage`.
      case storageTag
      /// The storage class of `rebuilds[rebuild]`, which gives its dtype.
      case storageType
      /// The storage key of `rebuilds[rebuild]`: text or an integer.
      case storageKey
    }

    var memoIndex: Int
    var use: Use
    var rebuild: Int
  }

  /// How a machine's run ended.
  enum Finish { case stopped, paused, unfollowed }

  struct Machine: ~Copyable {
    let bytes: UnsafeRawBufferPointer
    /// `bytes.count`.
    let end: Int
    /// Offset of `bytes` in the file.
    let base: Int
    let limits: Limits
    var position = 0
    var opcodeOffset = 0
    var opcodeCount = 0
    var stack = Buffer<Value>(capacity: 64)
    /// Stack heights at each open MARK.
    var marks = Buffer<Int>(capacity: 16)
    /// The memo, dense: what every pickler writes.
    var memo: Buffer<Value>
    /// The memo index of `memo[0]`: 0, except for a machine that starts partway through a
    /// pickle, which learns it from its first memo put (nil until then). Indices below it
    /// are recalled as ``Value/external(_:)``.
    var memoBase: Int?
    /// Whether this machine starts partway through the pickle, after a batch of the root's
    /// items, with the root alone on the stack.
    let startsPartway: Bool
    /// What a machine that starts partway took on trust.
    var deferred: [Deferred] = []
    /// The memo index last taken on trust as a call's callable (rebuild or other) and as the
    /// `storage` tag: a check that only repeats one already recorded is not recorded again.
    var lastTaken = (rebuildCall: -1, otherCall: -1, storageTag: -1)
    /// The items of the tuples made since the root last took a batch, one after another.
    var items = Buffer<Value>(capacity: 1024)
    var globals: [PickleGlobalUse] = []
    /// What each global is to this reader, by use.
    var functions: [TensorRebuild.Function?] = []
    var isDictCall: [Bool] = []
    var storageTypes: [DType??] = []
    var rebuilds: [TensorRebuild] = []
    var entries: [Entry] = []
    var hasRoot = false
    /// Whether the root is a dict-making call (`OrderedDict()`) rather than a dict; for a
    /// machine that starts partway, whether BUILD set the root's state, which only such a
    /// root takes.
    var rootIsObject = false
    /// The hash of each of the root's keys: a repeated hash (a repeated key, or very rarely
    /// two keys that collide) leaves the pickle to the machine, which keeps Python's order for
    /// repeated keys. Keys must be ASCII, where bytes and text compare alike.
    var keyHashes: [UInt64] = []
    /// Where the last `storage` text read is.
    var storageTag: Int32 = -1
    /// The last size and stride read, shared by the next tensor that has the same.
    var recent: [[Int]] = [[], []]

    /// A machine for the pickle in `bytes`, from its start, or from `start` (after a batch of
    /// the root's items) when given; its buffers are sized for the bytes up to `sizedTo`
    /// (the end unless given), and grow if it reads on.
    init(
      bytes: UnsafeRawBufferPointer, base: Int, limits: Limits, from start: Int? = nil,
      sizedTo sizedEnd: Int? = nil
    ) {
      self.bytes = bytes
      end = bytes.count
      self.base = base
      self.limits = limits
      startsPartway = start != nil
      position = start ?? 0
      memoBase = start == nil ? 0 : nil
      // A `torch.save` pickle memoizes about one value per ten bytes and names a tensor per
      // hundred (fewer with longer names); room from the pickle's own size, capped.
      let size = min(max(0, min(sizedEnd ?? bytes.count, bytes.count) - position), 1 << 26)
      memo = Buffer(capacity: size / 10)
      entries.reserveCapacity(size / 80)
      keyHashes.reserveCapacity(size / 80)
      rebuilds.reserveCapacity(size / 80)
      if start != nil {
        hasRoot = true
        stack.append(.root(isObject: true))
      }
    }

    /// Runs to STOP; or pauses at `pause` when an opcode ends there with the root alone on
    /// the stack, ready to go on.
    mutating func run(pausingAt pause: Int = -1) -> Finish {
      while position < end {
        opcodeOffset = position
        opcodeCount += 1
        guard opcodeCount <= limits.pickleOpcodes else { return .unfollowed }
        let byte = bytes[position]
        position += 1
        switch step(byte) {
        case .next:
          if position == pause, stack.count == 1, marks.isEmpty { return .paused }
        case .stop: return .stopped
        case .unfollowed: return .unfollowed
        }
      }
      return .unfollowed
    }

    /// Appends the name of each entry: its key, or `tensor` for an empty key, as the walk
    /// names it.
    func appendNames(of entries: [Entry], to names: inout [String]) {
      for entry in entries {
        let key = string(Int(entry.keyOffset), Int(entry.keyCount))
        names.append(key.isEmpty ? "tensor" : key)
      }
    }

    enum Outcome { case next, stop, unfollowed }

    // MARK: Opcodes

    /// One opcode, its byte already read.
    @inline(__always)
    mutating func step(_ byte: UInt8) -> Outcome {
      switch byte {
      case 0x80:  // PROTO
        guard let version = read(1), version <= 5 else { return .unfollowed }
      case 0x95:  // FRAME
        guard let size = read(8), size <= UInt64(end - position) else { return .unfollowed }
      case 0x2e:  // STOP
        guard marks.isEmpty, stack.count == 1, case .root = stack[0] else { return .unfollowed }
        return .stop
      case 0x28:  // MARK
        guard marks.count < limits.pickleMarkDepth else { return .unfollowed }
        marks.append(stack.count)
      case 0x4e: return push(.none)  // NONE
      case 0x88: return push(.bool(true))  // NEWTRUE
      case 0x89: return push(.bool(false))  // NEWFALSE
      case 0x4b:  // BININT1
        guard let value = read(1) else { return .unfollowed }
        return push(.int(Int64(value)))
      case 0x4d:  // BININT2
        guard let value = read(2) else { return .unfollowed }
        return push(.int(Int64(value)))
      case 0x4a:  // BININT
        guard let value = read(4) else { return .unfollowed }
        return push(.int(Int64(Int32(truncatingIfNeeded: value))))
      case 0x8a:  // LONG1
        // Up to eight bytes, two's complement: what the machine reads as an `.int`.
        guard let count = read(1), count <= 8, Int(count) <= limits.pickleStringBytes,
          let raw = read(Int(count))
        else { return .unfollowed }
        let unused = UInt64(64 - 8 * count)
        let value = count == 0 ? 0 : Int64(bitPattern: raw << unused) >> unused
        return push(.int(value))
      case 0x8c, 0x55:  // SHORT_BINUNICODE, SHORT_BINSTRING
        guard let count = read(1) else { return .unfollowed }
        return text(count)
      case 0x58:  // BINUNICODE
        guard let count = read(4) else { return .unfollowed }
        return text(count)
      case 0x8d:  // BINUNICODE8
        guard let count = read(8) else { return .unfollowed }
        return text(count)
      case 0x29: return push(tuple(popping: 0))  // EMPTY_TUPLE
      case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
        let count = Int(byte - 0x84)
        guard stack.count - floor >= count else { return .unfollowed }
        return push(tuple(popping: count))
      case 0x74:  // TUPLE
        guard let mark = marks.popLast() else { return .unfollowed }
        return push(tuple(popping: stack.count - min(mark, stack.count)))
      case 0x7d:  // EMPTY_DICT
        if !hasRoot, stack.isEmpty, marks.isEmpty {
          hasRoot = true
          return push(.root(isObject: false))
        }
        return push(.dict)
      case 0x73:  // SETITEM
        let top = stack.count
        guard top - floor >= 3, setItems(top - 2..<top, on: stack[top - 3]) == .next else {
          return .unfollowed
        }
        stack.truncate(to: top - 2)
        releaseItems()
      case 0x75:  // SETITEMS
        guard let mark = marks.popLast(), mark <= stack.count, mark > floor,
          (stack.count - mark) % 2 == 0,
          setItems(mark..<stack.count, on: stack[mark - 1]) == .next
        else { return .unfollowed }
        stack.truncate(to: mark)
        releaseItems()
      case 0x71:  // BINPUT
        guard let index = read(1) else { return .unfollowed }
        return memoize(Int(index))
      case 0x72:  // LONG_BINPUT
        guard let index = read(4) else { return .unfollowed }
        return memoize(Int(index))
      case 0x94:  // MEMOIZE
        return memoize(memo.count)
      case 0x68:  // BINGET
        guard let index = read(1) else { return .unfollowed }
        return recall(Int(index))
      case 0x6a:  // LONG_BINGET
        guard let index = read(4) else { return .unfollowed }
        return recall(Int(index))
      case 0x63:  // GLOBAL
        guard let module = line(), let name = line() else { return .unfollowed }
        return push(global(PickleGlobal(module, name), route: .global))
      case 0x93:  // STACK_GLOBAL
        guard stack.count - floor >= 2,
          case .text(let nameAt, let nameCount) = stack[stack.count - 1],
          case .text(let moduleAt, let moduleCount) = stack[stack.count - 2]
        else { return .unfollowed }
        stack.truncate(to: stack.count - 2)
        let global = PickleGlobal(
          string(Int(moduleAt), Int(moduleCount)), string(Int(nameAt), Int(nameCount)))
        return push(self.global(global, route: .stackGlobal))
      case 0x51:  // BINPERSID
        guard stack.count > floor, case .tuple(let start, let count) = stack[stack.count - 1]
        else { return .unfollowed }
        stack[stack.count - 1] = .persistentID(start: start, count: count)
      case 0x52:  // REDUCE
        return reduce()
      case 0x62:  // BUILD
        // Only the root `OrderedDict`'s state (`_metadata`), which the walk does not read.
        guard stack.count - floor >= 2 else { return .unfollowed }
        switch stack[stack.count - 2] {
        case .root(isObject: true), .object: stack.truncate(to: stack.count - 1)
        default: return .unfollowed
        }
        if startsPartway, case .root = stack[stack.count - 1] { rootIsObject = true }
      default:
        return .unfollowed
      }
      return .next
    }

    // MARK: Reading

    /// A little-endian unsigned integer of `size` bytes.
    @inline(__always)
    mutating func read(_ size: Int) -> UInt64? {
      guard size <= end - position else { return nil }
      defer { position += size }
      switch size {
      case 1: return UInt64(bytes[position])
      case 4: return UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
      case 8: return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
      default:
        var value: UInt64 = 0
        for i in 0..<size {
          value |= UInt64(bytes[position + i]) << (8 * UInt64(i))
        }
        return value
      }
    }

    /// A text of `count` bytes, checked as the machine checks it.
    @inline(__always)
    mutating func text(_ count: UInt64) -> Outcome {
      guard count <= UInt64(max(0, limits.pickleStringBytes)),
        count <= UInt64(end - position)
      else { return .unfollowed }
      let value = Value.text(offset: Int32(position), count: Int32(count))
      position += Int(count)
      return push(value)
    }

    /// The bytes up to the next newline, decoded; the newline is consumed.
    mutating func line() -> String? {
      let window = min(end - position, max(0, limits.pickleStringBytes) &+ 1)
      var end = position
      while end < position + window, bytes[end] != UInt8(ascii: "\n") { end += 1 }
      guard end < position + window else { return nil }
      defer { position = end + 1 }
      return string(position, end - position)
    }

    func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
      UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    func string(_ offset: Int, _ count: Int) -> String {
      String(decoding: slice(offset, count), as: UTF8.self)
    }

    // MARK: Stack and memo

    @inline(__always)
    mutating func push(_ value: Value) -> Outcome {
      guard stack.count < limits.pickleStackDepth else { return .unfollowed }
      stack.append(value)
      return .next
    }

    /// The stack height below which the innermost MARK keeps values.
    var floor: Int { marks.last ?? 0 }

    /// A tuple of the top `count` values, taken off the stack.
    mutating func tuple(popping count: Int) -> Value {
      let start = items.count
      items.append(from: stack, (stack.count - count)..<stack.count)
      stack.truncate(to: stack.count - count)
      return .tuple(start: Int32(start), count: Int32(count))
    }

    /// Only the next dense index, which every pickler writes.
    @inline(__always)
    mutating func memoize(_ index: Int) -> Outcome {
      if memoBase == nil { memoBase = index }
      guard index == (memoBase ?? 0) &+ memo.count, limits.pickleMemoEntries > memo.count,
        stack.count > floor
      else { return .unfollowed }
      memo.append(stack[stack.count - 1])
      return .next
    }

    /// Tuples are not recalled: their items may have been released.
    @inline(__always)
    mutating func recall(_ index: Int) -> Outcome {
      let first = memoBase ?? Int.max
      guard index >= first else {
        // Memoized before this machine's start: checked at the join.
        guard startsPartway, index <= Int32.max else { return .unfollowed }
        return push(.external(Int32(index)))
      }
      guard index - first < memo.count else { return .unfollowed }
      switch memo[index - first] {
      case .tuple, .persistentID: return .unfollowed
      case let value: return push(value)
      }
    }

    mutating func global(_ global: PickleGlobal, route: PickleGlobalRoute) -> Value {
      globals.append(PickleGlobalUse(global: global, offset: base + opcodeOffset, route: route))
      functions.append(TensorRebuild.Function(global))
      isDictCall.append(CheckpointWalker.isDictCall((global.module, global.name)))
      storageTypes.append(TorchStorageType.dtype(ofStorage: global))
      return .global(Int32(globals.count - 1))
    }

    // MARK: Collections and calls

    /// SETITEM(S): the root takes tensors under ASCII keys; other dicts and objects take
    /// anything, unread.
    mutating func setItems(_ flat: Range<Int>, on target: Value) -> Outcome {
      switch target {
      case .dict, .object: return .next
      case .root: break
      default: return .unfollowed
      }
      var i = flat.lowerBound
      while i < flat.upperBound {
        guard case .text(let offset, let count) = stack[i], case .tensor(let index) = stack[i + 1],
          entries.count < limits.tensors,
          let hash = StateDictPickle.asciiHash(slice(Int(offset), Int(count)))
        else { return .unfollowed }
        keyHashes.append(hash)
        entries.append(Entry(keyOffset: offset, keyCount: count, rebuild: index))
        i += 2
      }
      return .next
    }

    /// Once only the root is on the stack, no tuple is reachable but through the memo, which
    /// does not recall them: their items go.
    mutating func releaseItems() {
      if stack.count == 1, marks.isEmpty, case .root = stack[0] {
        items.truncate(to: 0)
      }
    }

    mutating func reduce() -> Outcome {
      guard stack.count - floor >= 2,
        case .tuple(let start32, let count32) = stack[stack.count - 1]
      else { return .unfollowed }
      let (start, count) = (Int(start32), Int(count32))
      let callable = stack[stack.count - 2]
      stack.truncate(to: stack.count - 2)
      if case .external(let index) = callable {
        // Taken by its arguments: a rebuild call's are a persistent id and more.
        if count >= 6, case .persistentID = items[start] {
          if lastTaken.rebuildCall != Int(index) {
            lastTaken.rebuildCall = Int(index)
            deferred.append(Deferred(memoIndex: Int(index), use: .rebuildCall, rebuild: -1))
          }
          guard let rebuild = tensorV2(start, count) else { return .unfollowed }
          rebuilds.append(rebuild)
          return push(.tensor(Int32(rebuilds.count - 1)))
        }
        if lastTaken.otherCall != Int(index) {
          lastTaken.otherCall = Int(index)
          deferred.append(Deferred(memoIndex: Int(index), use: .otherCall, rebuild: -1))
        }
        return push(.object)
      }
      guard case .global(let use32) = callable else { return push(.object) }
      let use = Int(use32)
      globals[use].called = true
      if let function = functions[use] {
        guard function == .tensorV2, let rebuild = tensorV2(start, count) else {
          return .unfollowed
        }
        rebuilds.append(rebuild)
        return push(.tensor(Int32(rebuilds.count - 1)))
      }
      if isDictCall[use], !hasRoot, stack.isEmpty, marks.isEmpty, count == 0 {
        hasRoot = true
        rootIsObject = true
        return push(.root(isObject: true))
      }
      return push(.object)
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks, ...)`
    /// as ``TensorRebuild`` reads it, when it reads it without an error.
    mutating func tensorV2(_ start: Int, _ count: Int) -> TensorRebuild? {
      guard count >= 6, case .persistentID(let id32, let fields) = items[start], fields >= 3,
        isStorageTag(items[Int(id32)]), let dtype = storageDType(items[Int(id32) + 1]),
        case .int(let offsetInView) = items[start + 1], offsetInView >= 0,
        let shape = integers(items[start + 2], slot: 0),
        let stride = integers(items[start + 3], slot: 1),
        shape.count == stride.count, stride.allSatisfy({ $0 >= 0 })
      else { return nil }
      let id = Int(id32)
      if fields >= 6 {
        guard case .none = items[id + 5] else { return nil }
      }
      let key: String
      switch items[id + 2] {
      case .text(let offset, let count): key = string(Int(offset), Int(count))
      case .int(let number): key = String(number)
      case .external(let index):
        key = ""
        deferred.append(Deferred(memoIndex: Int(index), use: .storageKey, rebuild: rebuilds.count))
      default: return nil
      }
      var requiresGrad = false
      if case .bool(true) = items[start + 4] { requiresGrad = true }
      return TensorRebuild(
        storageKey: key, dtype: dtype, storageOffset: Int(offsetInView), shape: shape,
        stride: stride, requiresGrad: requiresGrad, isParameter: nil, notes: [],
        offset: base + opcodeOffset)
    }

    /// Whether `value` is the text `storage` (or is taken to be, until the join).
    mutating func isStorageTag(_ value: Value) -> Bool {
      switch value {
      case .text(let offset, let count): return isStorageTag(offset, count)
      case .external(let index):
        if lastTaken.storageTag != Int(index) {
          lastTaken.storageTag = Int(index)
          deferred.append(Deferred(memoIndex: Int(index), use: .storageTag, rebuild: -1))
        }
        return true
      default: return false
      }
    }

    /// The dtype of a typed storage class (or float32 for now, until the join).
    mutating func storageDType(_ value: Value) -> DType? {
      switch value {
      case .global(let use):
        guard case .some(.some(let dtype)) = storageTypes[Int(use)] else { return nil }
        return dtype
      case .external(let index):
        deferred.append(
          Deferred(memoIndex: Int(index), use: .storageType, rebuild: rebuilds.count))
        return .float32
      default: return nil
      }
    }

    /// Whether the text at `offset` is `storage`; a pickle names the one memoized text for
    /// every tensor, compared once.
    mutating func isStorageTag(_ offset: Int32, _ count: Int32) -> Bool {
      if offset == storageTag { return true }
      guard count == 7, slice(Int(offset), 7).elementsEqual("storage".utf8) else { return false }
      storageTag = offset
      return true
    }

    /// A size or stride tuple of integers.
    mutating func integers(_ value: Value, slot: Int) -> [Int]? {
      guard case .tuple(let start32, let count32) = value, count32 <= limits.tensorRank else {
        return nil
      }
      let (start, count) = (Int(start32), Int(count32))
      let known = recent[slot]
      if known.count == count, count > 0 {
        var same = true
        for i in 0..<count {
          guard case .int(let number) = items[start + i] else { return nil }
          if Int(number) != known[i] { same = false }
        }
        if same { return known }
      }
      var numbers: [Int] = []
      numbers.reserveCapacity(count)  // At most Limits.tensorRank, checked above.
      for i in 0..<count {
        guard case .int(let number) = items[start + i] else { return nil }
        numbers.append(Int(number))
      }
      recent[slot] = numbers
      return numbers
    }
  }

  /// FNV-1a over a key's bytes; nil when the key is not ASCII.
  fileprivate static func asciiHash(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var high: UInt8 = 0
    for byte in bytes {
      high |= byte
      hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return high < 0x80 ? hash : nil
  }

  /// A growable run of plain values owned by one machine: a push is a capacity check and a
  /// store, with no check for a shared buffer. Every index is checked.
  struct Buffer<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
      self.capacity = max(16, capacity)
      base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }
    var last: Element? { count > 0 ? base[count - 1] : nil }

    subscript(index: Int) -> Element {
      @inline(__always) get {
        precondition(index >= 0 && index < count, "Buffer index out of range")
        return base[index]
      }
      @inline(__always) set {
        precondition(index >= 0 && index < count, "Buffer index out of range")
        base[index] = newValue
      }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
      if count == capacity { grow(to: count + 1) }
      base[count] = element
      count += 1
    }

    /// Appends `other[range]`.
    mutating func append(from other: borrowing Buffer<Element>, _ range: Range<Int>) {
      precondition(range.lowerBound >= 0 && range.upperBound <= other.count, "Buffer range")
      if count + range.count > capacity { grow(to: count + range.count) }
      (base + count).initialize(from: other.base + range.lowerBound, count: range.count)
      count += range.count
    }

    @inline(__always)
    mutating func popLast() -> Element? {
      guard count > 0 else { return nil }
      count -= 1
      return base[count]
    }

    /// Drops everything from `index` on.
    @inline(__always)
    mutating func truncate(to index: Int) {
      precondition(index >= 0 && index <= count, "Buffer truncation")
      count = index
    }

    private mutating func grow(to needed: Int) {
      (base, capacity) = movedToLarger(base, count: count, capacity: capacity, needed: needed)
    }
  }
}
