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
}
