import ArgumentParser
import WeightScopeCore

/// One `--limit NAME=VALUE` argument: raises (or lowers) one field of ``Limits``.
public struct LimitSetting: ExpressibleByArgument, Sendable, Equatable {
  public var name: String
  public var value: Int

  public init?(argument: String) {
    guard let equals = argument.firstIndex(of: "="),
      let value = Int(argument[argument.index(after: equals)...]), value >= 0,
      LimitSetting.fields[String(argument[..<equals])] != nil
    else { return nil }
    name = String(argument[..<equals])
    self.value = value
  }

  /// Every limit by its command-line name (the ``Limits`` field name). Immutable; key paths
  /// are not marked `Sendable`.
  nonisolated(unsafe) static let fields: [String: WritableKeyPath<Limits, Int>] = [
    "pickleOpcodes": \.pickleOpcodes,
    "pickleStackDepth": \.pickleStackDepth,
    "pickleMarkDepth": \.pickleMarkDepth,
    "pickleMemoEntries": \.pickleMemoEntries,
    "pickleStringBytes": \.pickleStringBytes,
    "objectDepth": \.objectDepth,
    "inflatedBytes": \.inflatedBytes,
    "zipEntries": \.zipEntries,
    "protobufDepth": \.protobufDepth,
    "protobufMessages": \.protobufMessages,
    "tensorRank": \.tensorRank,
    "tensors": \.tensors,
  ]

  /// The names, sorted, with their defaults: `pickleOpcodes=50000000`.
  public static var defaultsText: String {
    fields.keys.sorted().compactMap { name in
      fields[name].map { "\(name)=\(Limits.default[keyPath: $0])" }
    }.joined(separator: ", ")
  }

  /// `Limits.default` with `settings` applied in order.
  public static func limits(_ settings: [LimitSetting]) -> Limits {
    var limits = Limits.default
    for setting in settings {
      if let field = fields[setting.name] { limits[keyPath: field] = setting.value }
    }
    return limits
  }

  public static var allValueStrings: [String] { fields.keys.sorted().map { "\($0)=N" } }
}

/// The repeatable `--limit NAME=VALUE` option shared by the commands that read files.
public struct LimitOptions: ParsableArguments {
  @Option(
    name: .customLong("limit"),
    help: ArgumentHelp(
      "Change a reading limit, e.g. --limit inflatedBytes=4294967296 (repeatable).",
      discussion: "Limits and defaults: \(LimitSetting.defaultsText).",
      valueName: "name=value"))
  var settings: [LimitSetting] = []

  public init() {}

  /// The limits these options give.
  public var limits: Limits { LimitSetting.limits(settings) }
}
