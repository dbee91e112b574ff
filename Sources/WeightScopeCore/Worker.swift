#if os(Linux)
  import Glibc
#endif
import Synchronization

/// A thread kept for side work: it waits for a job, runs it, and goes back to wait.
///
/// Starting a thread maps its stack, and mapping takes the process's address-space lock for
/// writing. While ``HeapReserve`` has the kernel populate heap pages (`MADV_POPULATE_WRITE`
/// holds that lock for reading, milliseconds at a time on a host that hands memory back
/// slowly), such a start waits: a listing of a hundred thousand tensors lost up to 30 ms there.
/// Workers started before the populating begins (``prepare(_:)``) and kept afterwards never
/// map anything again.
final class Worker: @unchecked Sendable {
  #if os(Linux)
    private let wake = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
  #endif
  /// Set by the caller before `wake` is posted; run and cleared by the worker.
  private var job: (() -> Void)?
  /// Whether the caller waits for `job` (``start(_:)``) rather than leaving it (``detach(_:)``).
  private var awaited = false

  private static let idle = Mutex<[Worker]>([])

  /// A new worker with its thread started; nil when no thread can be started.
  private init?() {
    #if os(Linux)
      sem_init(wake, 0, 0)
      sem_init(finished, 0, 0)
      var thread = pthread_t()
      let context = Unmanaged.passRetained(self).toOpaque()
      guard pthread_create(&thread, nil, workerLoop, context) == 0 else {
        Unmanaged<Worker>.fromOpaque(context).release()
        return nil
      }
      pthread_detach(thread)
    #else
      return nil
    #endif
  }

  /// An idle worker, started now if none is; nil when no thread can be started.
  static func take() -> Worker? {
    idle.withLock { $0.popLast() } ?? Worker()
  }

  /// Starts workers now until `count` are idle.
  static func prepare(_ count: Int) {
    var started: [Worker] = []
    let missing = idle.withLock { count - $0.count }
    for _ in 0..<max(0, missing) {
      guard let worker = Worker() else { break }
      started.append(worker)
    }
    idle.withLock { $0.append(contentsOf: started) }
  }

  /// Runs `job` on this worker; ``wait()`` then waits for it.
  func start(_ job: @escaping () -> Void) {
    post(job, awaited: true)
  }

  private func post(_ job: @escaping () -> Void, awaited: Bool) {
    self.job = job
    self.awaited = awaited
    #if os(Linux)
      sem_post(wake)
    #endif
  }

  /// Waits for the job given to ``start(_:)``; its writes are visible afterwards.
  func wait() {
    #if os(Linux)
      while sem_wait(finished) != 0, errno == EINTR {}
    #endif
  }

  /// Puts this worker, done with its job, back among the idle ones.
  func giveBack() {
    Worker.idle.withLock { $0.append(self) }
  }

  /// Whether this worker is among the idle ones.
  var isIdle: Bool {
    Worker.idle.withLock { $0.contains { $0 === self } }
  }

  /// Runs `job` on this worker, which goes back among the idle ones when it ends; nobody
  /// waits for it.
  func detach(_ job: @escaping () -> Void) {
    post(
      {
        job()
        self.giveBack()
      }, awaited: false)
  }

  /// The thread's life: run each job as it comes.
  fileprivate func loop() -> Never {
    while true {
      #if os(Linux)
        while sem_wait(wake) != 0, errno == EINTR {}
      #endif
      // Read before the job runs: a detached job gives this worker back, to be started again.
      let (current, report) = (job, awaited)
      job = nil
      current?()
      #if os(Linux)
        if report { sem_post(finished) }
      #endif
    }
  }
}

#if os(Linux)
  private func workerLoop(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    Unmanaged<Worker>.fromOpaque(context).takeRetainedValue().loop()
  }
#endif
