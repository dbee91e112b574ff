#if os(Linux)
  import Glibc
#endif

/// Work split between the calling thread and one more, for the large listings whose parts
/// do not depend on each other (a security scan beside the analysis, the halves of a per-tensor
/// pass).
///
/// The side part runs on a kept ``Worker`` thread while the caller does its own part; both are
/// finished when a call returns, whatever either did. Handing work over costs microseconds,
/// so callers split only work of at least ``worthwhile`` items; where no thread can be
/// started, the side part runs on the calling thread, after the caller's part.
public enum ForkJoin {
  /// Items below which splitting a pass costs more than it saves.
  public static let worthwhile = 4096

  /// Runs `side` on another thread, when `split`, while `main` runs on this one.
  ///
  /// `main` throwing still waits for `side`, so nothing it uses outlives the call.
  public static func run<Main, Side, Failure: Error>(
    split: Bool, side: @escaping @Sendable () -> Side, main: () throws(Failure) -> Main
  ) throws(Failure) -> (Main, Side) {
    guard split, let worker = Worker.take() else {
      let first = try main()
      return (first, side())
    }
    let result = SideResult<Side>()
    worker.start { result.value = side() }
    let first: Main
    do {
      first = try main()
    } catch {
      worker.wait()
      worker.giveBack()
      throw error
    }
    worker.wait()
    worker.giveBack()
    guard let value = result.value else { preconditionFailure("a side part ended without a result") }
    return (first, value)
  }

  /// `transform` of `0..<count`, in order: the upper half on another thread, when `split`.
  public static func map<Element>(
    count: Int, split: Bool, _ transform: @escaping @Sendable (Int) -> Element
  ) -> [Element] {
    map(count: count, split: split, state: ()) { index, _ in transform(index) }
  }

  /// ``map(count:split:_:)`` where each half carries its own copy of `state` from one index to
  /// the next (a cache of the last lookup), starting from the value given.
  public static func map<Element, State: Sendable>(
    count: Int, split: Bool, state: State,
    _ transform: @escaping @Sendable (Int, inout State) -> Element
  ) -> [Element] {
    let count = max(0, count)
    let half = count / 2
    return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      let target = SharedPointer(base)
      // Each thread initializes its own half of the buffer, and only that.
      _ = run(
        split: split && count >= worthwhile,
        side: {
          var own = state
          for index in half..<count { (target.base + index).initialize(to: transform(index, &own)) }
        },
        main: {
          var own = state
          for index in 0..<half { (target.base + index).initialize(to: transform(index, &own)) }
        })
      initialized = count
    }
  }
}

/// A buffer two threads fill in disjoint halves.
private struct SharedPointer<Element>: @unchecked Sendable {
  let base: UnsafeMutablePointer<Element>

  init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// The result of a side part, written by the worker and read after its join.
final class SideResult<Value>: @unchecked Sendable {
  var value: Value?
}
