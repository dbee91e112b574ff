/// A growable run of plain values in one allocation: the pickle machine's stack, memo, node
/// slots and tuple items.
///
/// An `Array` checks for a shared buffer on every change; these buffers are never shared, so
/// a push is a capacity check and a store. Every index is checked (a failed check stops the
/// process rather than reading outside the buffer); the machine checks the pickle's own
/// indices before using them, so none of these checks fails on any input. A buffer is changed
/// only by the machine that made it; once a finished ``PickleStore`` holds it, it is only read.
@usableFromInline final class PlainBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
  @usableFromInline @exclusivity(unchecked) var base: UnsafeMutablePointer<Element>
  @usableFromInline @exclusivity(unchecked) var count = 0
  @exclusivity(unchecked) private var capacity: Int

  init(capacity: Int = 16) {
    self.capacity = max(16, capacity)
    base = .allocate(capacity: self.capacity)
  }

  deinit { base.deallocate() }

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
    (base, capacity) = movedToLarger(base, count: count, capacity: capacity, needed: needed)
  }
}

/// `count` elements at `base` moved into a new allocation of at least `needed`, and at least
/// twice `capacity`; `base` is freed. How a plain buffer grows.
package func movedToLarger<Element: BitwiseCopyable>(
  _ base: UnsafeMutablePointer<Element>, count: Int, capacity: Int, needed: Int
) -> (UnsafeMutablePointer<Element>, capacity: Int) {
  let bigger = max(needed, capacity * 2)
  let moved = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
  moved.moveInitialize(from: base, count: count)
  base.deallocate()
  return (moved, bigger)
}
