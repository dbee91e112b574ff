import Synchronization
import Testing

@testable import WeightScopeCore

#if os(Linux)
  import Glibc
#endif

@Suite struct ForkJoinTests {
  @Test func mapKeepsOrderSplitOrNot() {
    for count in [0, 1, 7, ForkJoin.worthwhile - 1, ForkJoin.worthwhile, 3 * ForkJoin.worthwhile + 1] {
      let split = ForkJoin.map(count: count, split: true) { "item \($0 * $0)" }
      let plain = ForkJoin.map(count: count, split: false) { "item \($0 * $0)" }
      #expect(split == (0..<count).map { "item \($0 * $0)" })
      #expect(split == plain)
    }
    #expect(ForkJoin.map(count: -3, split: true) { $0 }.isEmpty)
  }

  @Test func runGivesBothResultsAndUsesAnotherThreadWhenSplit() {
    #if os(Linux)
      let caller = UInt(pthread_self())
      let (mine, theirs) = ForkJoin.run(
        split: true, side: { UInt(pthread_self()) }, main: { UInt(pthread_self()) })
      #expect(mine == caller)
      #expect(theirs != caller)
      let (_, inline) = ForkJoin.run(split: false, side: { UInt(pthread_self()) }, main: { 0 })
      #expect(inline == caller)
    #endif
  }

  @Test func aFailingMainStillWaitsForTheSide() {
    struct Stop: Error {}
    let finished = Mutex(false)
    #expect(throws: Stop.self) {
      _ = try ForkJoin.run(
        split: true,
        side: {
          // Slow enough that only a join can see the write.
          var total = 0
          for i in 0..<2_000_000 { total &+= i }
          finished.withLock { $0 = true }
          return total
        },
        main: { () throws(Stop) -> Int in throw Stop() })
    }
    #expect(finished.withLock { $0 })
  }

  /// A worker runs every job it is given on its one thread, and a split started after
  /// `prepare` takes a kept worker rather than starting a thread.
  @Test func workersKeepTheirThread() throws {
    #if os(Linux)
      let worker = try #require(Worker.take())
      let threads = Mutex<[UInt]>([])
      for _ in 0..<3 {
        worker.start { threads.withLock { $0.append(UInt(pthread_self())) } }
        worker.wait()
      }
      let seen = threads.withLock { $0 }
      #expect(seen.count == 3)
      #expect(Set(seen).count == 1)
      #expect(seen.first != UInt(pthread_self()))
      #expect(!worker.isIdle)
      worker.giveBack()
      #expect(worker.isIdle)
    #endif
  }

  /// A detached job runs, and its worker is idle again once it ends.
  @Test func aDetachedWorkerComesBack() throws {
    #if os(Linux)
      let worker = try #require(Worker.take())
      let ran = Mutex(false)
      worker.detach { ran.withLock { $0 = true } }
      var waited = 0
      while !worker.isIdle, waited < 5_000 {
        usleep(1_000)
        waited += 1
      }
      #expect(worker.isIdle)
      #expect(ran.withLock { $0 })
    #endif
  }

  /// Each half starts from the state given and carries its own copy from index to index, on
  /// two threads or, for a short list, one after the other.
  @Test func mapWithStateGivesEachHalfItsOwnCopy() {
    for count in [0, 5, ForkJoin.worthwhile, 2 * ForkJoin.worthwhile + 3] {
      // The state counts the indices its half has mapped so far.
      let mapped = ForkJoin.map(count: count, split: true, state: 0) { i, seen in
        defer { seen += 1 }
        return (i, seen)
      }
      let half = count / 2
      #expect(mapped.map(\.0) == Array(0..<count))
      #expect(mapped.map(\.1) == (0..<count).map { $0 >= half ? $0 - half : $0 })
    }
  }

  /// Side work runs on another thread; its result is handed over once, and work never
  /// joined is waited for when it goes away.
  @Test func sideWorkJoinsOrWaitsWhenDropped() throws {
    #if os(Linux)
      let caller = UInt(pthread_self())
      let work = try #require(SideWork { UInt(pthread_self()) })
      #expect(work.join() != caller)
      let finished = Mutex(false)
      do {
        _ = SideWork {
          var total = 0
          for i in 0..<2_000_000 { total &+= i }
          finished.withLock { $0 = true }
          return total
        }
      }
      #expect(finished.withLock { $0 })
    #endif
  }

  /// Splits inside a side part (an analysis in halves beside a scan) each get a worker.
  @Test func nestedSplitsFinish() {
    let (outer, inner) = ForkJoin.run(
      split: true,
      side: { ForkJoin.map(count: ForkJoin.worthwhile * 2, split: true) { $0 }.reduce(0, +) },
      main: { ForkJoin.map(count: ForkJoin.worthwhile * 2, split: true) { $0 * 2 }.reduce(0, +) })
    let n = ForkJoin.worthwhile * 2
    #expect(inner == n * (n - 1) / 2)
    #expect(outer == n * (n - 1))
  }
}
