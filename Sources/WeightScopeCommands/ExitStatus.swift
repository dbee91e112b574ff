/// Exit codes of every command, as `../contracts/inspect-json.md` fixes them.
public enum ExitStatus {
  public static let success: Int32 = 0
  /// A check failed: spec mismatch, budget exceeded, dangerous content found.
  public static let checkFailed: Int32 = 1
  /// A file could not be read: malformed, truncated, unsupported.
  public static let unreadable: Int32 = 2
  /// Bad command-line usage (sysexits' EX_USAGE, which ArgumentParser also uses).
  public static let usage: Int32 = 64
}
