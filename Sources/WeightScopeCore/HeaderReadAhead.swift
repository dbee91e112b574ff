#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Read-ahead for a walk that jumps over payloads from one header to the next, as a walk over
/// a model's inline initializers does.
///
/// Where a header starts is known only once the one before it has been read, so on a cold page
/// cache a walk over a thousand tensors waits for a thousand disk reads, one after another.
/// When a header after a long jump arrives slowly (from disk, not from memory), the walk is
/// taken to be cold: the next headers are guessed by repeating the last few jumps (a model's
/// layers repeat their tensor sizes) and requested at once, so that many reads are in flight
/// together. A wrong guess costs one page read. A warm walk costs a clock reading per long jump
/// and requests nothing.
public struct HeaderReadAhead {
  /// Jumps shorter than this stay near pages just read: not timed.
  public static let longJump = 64 << 10
  /// A header read taking longer than this came from disk.
  @usableFromInline static let slowNanoseconds: UInt64 = 20_000
  /// How many repeats of the jump pattern are requested ahead.
  static let ahead = 64

  @usableFromInline let bytes: FileBytes
  /// The last header's position.
  @usableFromInline var last: Int?
  /// The last few headers' positions, oldest first, kept once a long jump has been seen: a
  /// walk through dense metadata only compares each position with the last.
  @usableFromInline var recent: [Int] = []
  @usableFromInline var slowReads = 0
  /// The furthest guessed header requested so far.
  private(set) var requested = 0

  public init(_ bytes: FileBytes) { self.bytes = bytes }

  /// Whether enough slow reads have been seen to guess ahead.
  @inlinable public var isCold: Bool { slowReads >= 2 }

  /// Call just before reading the header at `position`; pass the result to ``didRead(at:started:)``.
  @inlinable public func willRead(at position: Int) -> UInt64? {
    guard let last, position - last >= Self.longJump else { return nil }
    return Self.now()
  }

  /// Call once the header at `position` has been read; returns whether it was reached by a
  /// long jump.
  @inlinable @discardableResult
  public mutating func didRead(at position: Int, started: UInt64?) -> Bool {
    let long = last.map { position - $0 >= Self.longJump } ?? false
    if recent.isEmpty, long, let last {
      recent.reserveCapacity(10)
      recent.append(last)
    }
    last = position
    if !recent.isEmpty { observe(position, started: started) }
    return long
  }

  /// Keeps `position` among the recent ones and, when the walk is cold, asks for the headers
  /// expected next.
  @usableFromInline mutating func observe(_ position: Int, started: UInt64?) {
    recent.append(position)
    if recent.count > 9 { recent.removeFirst() }
    guard let started else { return }
    if !isCold {
      if Self.now() &- started >= Self.slowNanoseconds { slowReads += 1 }
      guard isCold else { return }
    }
    requestAhead(from: position)
  }

  /// Requests the pages of the headers that repeating the shortest repeating pattern of the
  /// recent jumps predicts after `position`.
  private mutating func requestAhead(from position: Int) {
    var jumps: [Int] = []
    for i in 1..<recent.count { jumps.append(recent[i] - recent[i - 1]) }
    guard let period = (1...4).first(where: { p in
      jumps.count >= 2 * p
        && (0..<p).allSatisfy { jumps[jumps.count - 1 - $0] == jumps[jumps.count - 1 - $0 - p] }
    }) else { return }
    let pattern = Array(jumps.suffix(period))
    // Asked for in batches: once half the guesses ahead are used up, the next batch, so that
    // neighbouring headers (a bias after its weight) share one request.
    let cycle = pattern.reduce(0) { $0 &+ $1 }
    let (half, overflow) = cycle.multipliedReportingOverflow(by: Self.ahead / 2)
    guard overflow || position &+ half > requested else { return }
    var next = position
    // Headers close together (a bias after its weight) are asked for in one request.
    var pending: Range<Int>?
    for step in 0..<(Self.ahead * period) {
      let (moved, overflow) = next.addingReportingOverflow(pattern[step % period])
      guard !overflow, moved > next, moved < bytes.count else { break }
      next = moved
      guard next > requested else { continue }
      requested = next
      if let open = pending, next - open.upperBound < Self.longJump {
        pending = open.lowerBound..<(next + 4096)
      } else {
        if let open = pending { bytes.prefetch(open) }
        pending = next..<(next + 4096)
      }
    }
    if let open = pending { bytes.prefetch(open) }
  }

  @usableFromInline static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }
}
