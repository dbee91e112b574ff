/// Work started on a kept ``Worker`` thread now and joined later, where the caller's part
/// does not end at one point of its own code (a decoder that hands a later stretch of the file
/// to another core and takes its result back further on).
///
/// The worker is always joined before it is used again: by ``join()``, or when the last
/// reference goes away unjoined (an error thrown past the join point), by `deinit`.
public final class SideWork<Value>: @unchecked Sendable {
  private let worker: Worker
  private let result = SideResult<Value>()
  /// Whether the worker has finished and been given back; touched only by the caller's thread.
  private var joined = false

  /// Starts `body` on another thread; nil when no thread can be started, so the caller does
  /// the work itself.
  public init?(_ body: @escaping @Sendable () -> Value) {
    guard let worker = Worker.take() else { return nil }
    self.worker = worker
    let result = self.result
    worker.start { result.value = body() }
  }

  /// Waits for the work and hands over its result, which this object then no longer holds
  /// (so arrays in it are not shared, and the caller's changes copy nothing): call once.
  public func join() -> Value {
    finish()
    guard let value = result.value.take() else {
      preconditionFailure("side work ended without a result, or was joined twice")
    }
    return value
  }

  private func finish() {
    guard !joined else { return }
    worker.wait()
    worker.giveBack()
    joined = true
  }

  deinit { finish() }
}
