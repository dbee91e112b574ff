/// Every bound WeightScope puts on what an untrusted file can make it do.
///
/// One value, passed to every reader. The defaults admit any real checkpoint seen so far and
/// stop a hostile file long before it costs much memory or time; callers may raise them.
public struct Limits: Sendable, Equatable, Codable {
  /// Pickle opcodes executed, per pickle.
  public var pickleOpcodes: Int = 50_000_000
  /// Depth of the pickle stack (values pushed and not yet popped).
  public var pickleStackDepth: Int = 1_000_000
  /// Marks open at once in a pickle.
  public var pickleMarkDepth: Int = 10_000
  /// Entries in a pickle's memo.
  public var pickleMemoEntries: Int = 10_000_000
  /// Bytes in one pickled string or bytes object, checked before anything is allocated.
  public var pickleStringBytes: Int = 256 << 20
  /// Nesting depth when walking a pickled object tree.
  public var objectDepth: Int = 500
  /// Bytes a compressed zip entry may inflate to (zip bombs stop here).
  public var inflatedBytes: Int = 1 << 30
  /// Entries in a zip central directory.
  public var zipEntries: Int = 1_000_000
  /// Nesting depth of protobuf messages.
  public var protobufDepth: Int = 100
  /// Protobuf messages decoded in one file.
  public var protobufMessages: Int = 50_000_000
  /// Dimensions of one tensor.
  public var tensorRank: Int = 64
  /// Tensors in one file.
  public var tensors: Int = 10_000_000

  public init() {}

  /// The defaults.
  public static let `default` = Limits()
}
