/// A growable run of plain values in one allocation: the pickle machine's stack, memo, node
/// slots and tuple items.
///
/// An `Array` checks for a shared buffer on every change; these buffers are never shared, so
/// a push is a capacity check and a store. Every index is checked (a failed check stops the
/// process rather than reading outside the buffer); the machine checks the pickle's own
/// indices before using them, so none of these checks fails on any input. A buffer is changed
/// only by the machine that made it; once a finished ``PickleStore`` holds it, it is only read.
#if canImport(Glibc)
  import Glibc
#endif

@usableFromInline final class PlainBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
  @usableFromInline @exclusivity(unchecked) var base: UnsafeMutablePointer<Element>
  @usableFromInline @exclusivity(unchecked) var count = 0
  @exclusivity(unchecked) private var capacity: Int

  /// Whether `base` was mapped by ``Pages`` rather than allocated.
  @exclusivity(unchecked) private var mapped: Bool

  init(capacity: Int = 16) {
    self.capacity = max(16, capacity)
    (base, mapped) = Pages.allocate(Element.self, capacity: self.capacity)
  }

  deinit { Pages.free(base, capacity: capacity, mapped: mapped) }

  var isEmpty: Bool { count == 0 }
  @inlinable var indices: Range<Int> { 0..<count }
  var last: Element? { count > 0 ? base[count - 1] : nil }

  @inlinable subscript(index: Int) -> Element {
    get {
      precondition(index >= 0 && index < count, "PlainBuffer index out of range")
      return base[index]
    }
    set {
      precondition(index >= 0 && index < count, "PlainBuffer index out of range")
      base[index] = newValue
    }
  }

  @inline(__always) func append(_ element: Element) {
    if count == capacity { grow(to: count + 1) }
    base[count] = element
    count += 1
  }

  /// Appends `other[range]`; `other` may be this buffer.
  func append(from other: PlainBuffer<Element>, _ range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= other.count, "PlainBuffer range")
    if count + range.count > capacity { grow(to: count + range.count) }
    (base + count).initialize(from: other.base + range.lowerBound, count: range.count)
    count += range.count
  }

  func append(contentsOf elements: [Element]) {
    if count + elements.count > capacity { grow(to: count + elements.count) }
    elements.withUnsafeBufferPointer { source in
      guard let start = source.baseAddress else { return }
      (base + count).initialize(from: start, count: source.count)
    }
    count += elements.count
  }

  func popLast() -> Element? {
    guard count > 0 else { return nil }
    count -= 1
    return base[count]
  }

  /// Drops everything from `index` on.
  func truncate(to index: Int) {
    precondition(index >= 0 && index <= count, "PlainBuffer truncation")
    count = index
  }

  /// The elements in `range`, as an array.
  func array(_ range: Range<Int>) -> [Element] {
    precondition(range.lowerBound >= 0 && range.upperBound <= count, "PlainBuffer range")
    return Array(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
  }

  /// Calls `body` with the elements in place.
  func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: base, count: count))
  }

  /// Every element, as an array.
  func array() -> [Element] { array(0..<count) }

  private func grow(to needed: Int) {
    let bigger = max(needed, capacity * 2)
    let (moved, movedMapped) = Pages.allocate(Element.self, capacity: bigger)
    moved.moveInitialize(from: base, count: count)
    Pages.free(base, capacity: capacity, mapped: mapped)
    base = moved
    mapped = movedMapped
    capacity = bigger
  }
}

/// Memory for large buffers: mapped directly and marked for transparent huge pages, so that
/// filling tens of megabytes takes a fault per 2 MiB rather than per 4 KiB page. Small buffers,
/// and systems without the advice, use the ordinary allocator.
enum Pages {
  static let threshold = 4 << 20

  static func allocate<Element>(_: Element.Type, capacity: Int) -> (UnsafeMutablePointer<Element>, Bool) {
    #if os(Linux)
      let (bytes, overflow) = capacity.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
      if !overflow, bytes >= threshold,
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        raw != MAP_FAILED
      {
        _ = madvise(raw, bytes, 14)  // MADV_HUGEPAGE, which the Glibc module does not export.
        return (raw.bindMemory(to: Element.self, capacity: capacity), true)
      }
    #endif
    return (.allocate(capacity: capacity), false)
  }

  static func free<Element>(_ base: UnsafeMutablePointer<Element>, capacity: Int, mapped: Bool) {
    #if os(Linux)
      if mapped {
        _ = munmap(UnsafeMutableRawPointer(base), capacity * MemoryLayout<Element>.stride)
        return
      }
    #endif
    base.deallocate()
  }
}
