/// Values the command line keeps until the process exits, instead of freeing them.
///
/// The `weightscope` process ends right after printing its report; the kernel reclaims its
/// memory at once, while releasing a large analysis object by object costs time the user waits
/// for (compilers skip the same work the same way). Only the plain listing route uses it, for
/// its last file: one analysis per run of the executable.
enum ProcessLifetime {
  nonisolated(unsafe) private static var kept: [Any] = []

  static func keep(_ value: Any) {
    kept.append(value)
  }
}
