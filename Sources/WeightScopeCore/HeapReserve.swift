#if os(Linux)
  import CMalloc
  import Glibc
#endif
import Synchronization

/// Heap made ready on another core before a large listing fills it.
///
/// Listing a hundred thousand tensors fills about a hundred megabytes of fresh heap, and every
/// new page stops the listing for a fault while the kernel maps and zeroes it: a quarter of
/// the time. A reader that learns how much it is about to allocate (a zip directory's entries,
/// a pickle's size, a graph's nodes) calls ``expect(bytes:)`` first. The heap's top is then
/// grown by that much and freed again at once, so that it stays at the top for the next
/// allocations, and a second thread asks the kernel to map those pages in advance
/// (`MADV_POPULATE_WRITE`) while the listing goes on. No content changes: the pages are
/// mapped, not written.
///
/// The span is advised into transparent huge pages, which fault in 512 times fewer steps:
/// 0.1 ms per MiB here, against 0.6 ms for small pages. But on a virtual machine that hands
/// free memory back to its host (free page reporting, in whole 2 MiB blocks), a fresh huge
/// page may be one the host must back again, at 2.5 to 4.5 ms per MiB: what a process that
/// starts after a pause of a few seconds meets. The first huge page that is slow to populate
/// turns them off for the rest of the process, and the rest is populated in small pages.
///
/// Nothing happens unless the process has called ``enable()``: the command-line tool does, and
/// a program using the library keeps its allocator as it was.
public enum HeapReserve {
  /// Reservations smaller than this are left to ordinary page faults.
  public static let minimum = 4 << 20
  /// The most all reservations together ask for.
  public static let maximum = 192 << 20

  nonisolated(unsafe) private static var enabled = false
  nonisolated(unsafe) private static var reserved = 0

  /// Bytes reserved so far.
  public static var reservedBytes: Int { reserved }

  /// Tunes glibc's allocator for a short-lived process that builds large arrays, frees them
  /// and builds others, and turns reservations on.
  ///
  /// Blocks up to 256 MiB come from the heap rather than separate mappings, and freed memory
  /// stays in the heap, so the next array reuses pages already mapped instead of faulting in
  /// fresh ones. Every thread allocates from that one heap: a thread that walks half of a
  /// listing uses the reserved pages too, instead of faulting in a heap of its own. Call once,
  /// at start, before any other thread runs.
  public static func enable() {
    #if os(Linux)
      _ = mallopt(M_MMAP_THRESHOLD, 256 << 20)
      _ = mallopt(M_TRIM_THRESHOLD, 512 << 20)
      _ = mallopt(M_TOP_PAD, 16 << 20)
      _ = mallopt(M_ARENA_MAX, 1)
      enabled = true
    #endif
  }

  /// Says that the work now starting will allocate about `bytes` of heap; from the thread
  /// doing it.
  ///
  /// The reservation starts where the next allocation will, so a second one overlaps what
  /// the first has not used yet. Less than ``minimum`` is not reserved; all together are
  /// capped at ``maximum``.
  public static func expect(bytes: Int) {
    #if os(Linux)
      guard enabled, bytes >= minimum, reserved < maximum else { return }
      let size = min(bytes, maximum - reserved)
      guard let block = malloc(size) else { return }
      free(block)  // Back into the top of the heap, still mapped.
      reserved += size
      let huge = 2 << 20
      let start = (Int(bitPattern: block) + huge - 1) & ~(huge - 1)
      let end = (Int(bitPattern: block) + size) & ~(huge - 1)
      guard end > start, let range = UnsafeMutableRawPointer(bitPattern: start) else { return }
      let advised = hugePages.load(ordering: .relaxed)
      if advised { _ = madvise(range, end - start, 14) }  // MADV_HUGEPAGE (not in the Glibc module)
      let begins = pending.withLock { pending in
        pending.spans.append(Span(range: start..<end, advised: advised))
        defer { pending.running = true }
        return !pending.running
      }
      guard begins else { return }
      // Every thread the listing will split work with is started before the populating
      // begins, and the populating itself runs on one of them (see `Worker`).
      Worker.prepare(2)
      guard let worker = Worker.take() else {
        pending.withLock { $0 = Pending() }
        return
      }
      worker.detach(populatePending)
    #endif
  }

  /// A reserved span, and whether it was advised into huge pages.
  private struct Span {
    var range: Range<Int>
    var advised: Bool
  }

  /// Spans waiting to be populated, lowest first, and whether a worker is on them.
  private struct Pending {
    var spans: [Span] = []
    var running = false
  }

  private static let pending = Mutex(Pending())
  /// Whether spans are advised into huge pages: until one is slow to populate.
  private static let hugePages = Atomic(true)
  /// A 2 MiB step slower than this (1 ms per MiB, above small pages' cost) is a huge page the
  /// host had to back again.
  private static let slowHugeStep = 2_000_000

  #if os(Linux)
    /// Populates the pending spans one after another until none is left.
    private static func populatePending() {
      while let span = pending.withLock({ pending -> Span? in
        guard !pending.spans.isEmpty else {
          pending.running = false
          return nil
        }
        return pending.spans.removeFirst()
      }) {
        populate(span)
      }
    }

    /// Maps the pages of `span` in 2 MiB steps, lowest first, as the listing will use them
    /// (each step holds the address-space lock for reading, about a millisecond); stops at
    /// the first refusal (kernels before 5.14 have no `MADV_POPULATE_WRITE`). Once a huge
    /// page is slow, the rest is advised back to small pages.
    private static func populate(_ span: Span) {
      let (end, step) = (span.range.upperBound, 2 << 20)
      var at = span.range.lowerBound
      var huge = span.advised
      while at < end, let page = UnsafeMutableRawPointer(bitPattern: at) {
        if huge, !hugePages.load(ordering: .relaxed) {
          _ = madvise(page, end - at, 15)  // MADV_NOHUGEPAGE
          huge = false
        }
        let started = nanoseconds()
        guard madvise(page, min(step, end - at), 23) == 0 else { return }  // MADV_POPULATE_WRITE
        if huge, nanoseconds() - started > slowHugeStep { hugePages.store(false, ordering: .relaxed) }
        at += step
      }
    }

    private static func nanoseconds() -> Int {
      var now = timespec()
      clock_gettime(CLOCK_MONOTONIC, &now)
      return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }
  #endif
}
