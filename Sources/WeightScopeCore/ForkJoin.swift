#if os(Linux)
  import Glibc
#endif

/// Work split between the calling thread and one more, for the large listings whose parts
/// do not depend on each other (a security scan beside the analysis, the halves of a per-tensor
/// pass).
///
/// The side part runs on a new thread while the caller does its own part; both are finished
/// when a call returns, whatever either did. Starting a thread costs tens of microseconds, so
/// callers split only work of at least ``worthwhile`` items; where no thread can be started,
/// the side part runs on the calling thread, after the caller's part.
public enum ForkJoin {
  /// Items below which splitting a pass costs more than it saves.
  public static let worthwhile = 4096

  /// Runs `side` on another thread, when `split`, while `main` runs on this one.
  ///
  /// `main` throwing still waits for `side`, so nothing it uses outlives the call.
  public static func run<Main, Side, Failure: Error>(
    split: Bool, side: @escaping @Sendable () -> Side, main: () throws(Failure) -> Main
  ) throws(Failure) -> (Main, Side) {
    guard split, let started = SideThread(side) else {
      let first = try main()
      return (first, side())
    }
    let first: Main
    do {
      first = try main()
    } catch {
      _ = started.join()
      throw error
    }
    return (first, started.join())
  }

  /// `transform` of `0..<count`, in order: the upper half on another thread, when `split`.
  public static func map<Element>(
    count: Int, split: Bool, _ transform: @escaping @Sendable (Int) -> Element
  ) -> [Element] {
    let count = max(0, count)
    let half = count / 2
    return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      let target = SharedPointer(base)
      // Each thread initializes its own half of the buffer, and only that.
      _ = run(
        split: split && count >= worthwhile,
        side: { for index in half..<count { (target.base + index).initialize(to: transform(index)) } },
        main: { for index in 0..<half { (target.base + index).initialize(to: transform(index)) } })
      initialized = count
    }
  }
}

/// A buffer two threads fill in disjoint halves.
private struct SharedPointer<Element>: @unchecked Sendable {
  let base: UnsafeMutablePointer<Element>

  init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// A thread running one closure; ``join()`` waits for it and returns its result.
private final class SideThread<Result>: @unchecked Sendable {
  private let body: @Sendable () -> Result
  private var result: Result?
  #if os(Linux)
    private var thread = pthread_t()
  #endif

  /// Starts `body`; nil when no thread can be started.
  init?(_ body: @escaping @Sendable () -> Result) {
    self.body = body
    #if os(Linux)
      let context = Unmanaged.passRetained(SideTask(self)).toOpaque()
      guard pthread_create(&thread, nil, runSideTask, context) == 0 else {
        Unmanaged<SideTask>.fromOpaque(context).release()
        return nil
      }
    #else
      return nil
    #endif
  }

  fileprivate func execute() { result = body() }

  /// Waits for the thread; its writes are visible after the join.
  func join() -> Result {
    #if os(Linux)
      pthread_join(thread, nil)
    #endif
    guard let result else { preconditionFailure("a side thread ended without a result") }
    return result
  }
}

/// What the new thread runs, without the generic type a C entry point cannot carry.
private final class SideTask {
  private let run: () -> Void

  init<Result>(_ thread: SideThread<Result>) { run = thread.execute }

  func callAsFunction() { run() }
}

#if os(Linux)
  private func runSideTask(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    Unmanaged<SideTask>.fromOpaque(context).takeRetainedValue()()
    return nil
  }
#endif
