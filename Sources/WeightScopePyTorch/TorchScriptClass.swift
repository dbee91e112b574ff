import WeightScopeModel
import WeightScopePickle

/// What a TorchScript class declares in the archive's `code/` before its methods.
///
/// `torch.jit.save` writes each module class as source text whose header lists
/// `__parameters__ = ["weight", "bias", ]`, `__buffers__ = [...]`, and the constants the
/// module was built with (`in_channels : Final[int] = 3`). Only those header lines are read;
/// the code is never run.
struct TorchScriptClass: Equatable {
  var parameters: [String] = []
  var buffers: [String] = []
  /// `Final` constants in source order, values in Python spelling with single quotes.
  var constants: [FileFact] = []

  /// The `code/` entry, relative to the archive's top folder, that holds `global`'s class:
  /// `__torch__.torch.nn.modules.conv.___torch_mangle_0` -> `code/__torch__/torch/nn/modules/conv/___torch_mangle_0.py`.
  static func entryName(for global: PickleGlobal) -> String? {
    guard global.module == "__torch__" || global.module.hasPrefix("__torch__.") else { return nil }
    let parts = global.module.split(separator: ".")
    guard !parts.contains(where: { $0.isEmpty || $0 == ".." }) else { return nil }
    return "code/" + parts.joined(separator: "/") + ".py"
  }

  /// The header of class `name` in `source`, or nil when the source has no such class.
  init?(named name: String, in source: Substring) {
    var inClass = false
    var found = false
    for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
      if !inClass {
        if line.hasPrefix("class \(name)(") || line.hasPrefix("class \(name):") {
          inClass = true
          found = true
        }
        continue
      }
      guard line.hasPrefix("  "), !line.hasPrefix("  def "), !line.hasPrefix("  @") else { break }
      let text = line.dropFirst(2)
      if text.hasPrefix("__parameters__ = ") {
        parameters = Self.quotedStrings(text)
      } else if text.hasPrefix("__buffers__ = ") {
        buffers = Self.quotedStrings(text)
      } else if let colon = text.firstIndex(of: ":"),
        text[colon...].hasPrefix(": Final["), let equals = text.firstRange(of: " = ")
      {
        let key = text[..<colon].trimmingSpaces()
        let value = text[equals.upperBound...].replacingDoubleQuotes()
        if !key.isEmpty { constants.append(FileFact(String(key), value)) }
      }
    }
    guard found else { return nil }
  }

  /// `["weight", "bias", ]` -> `weight`, `bias`.
  private static func quotedStrings(_ text: Substring) -> [String] {
    text.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
      .filter { $0.offset % 2 == 1 }.map { String($0.element) }
  }
}

extension Substring {
  fileprivate func trimmingSpaces() -> Substring {
    var text = self
    while text.first == " " { text = text.dropFirst() }
    while text.last == " " { text = text.dropLast() }
    return text
  }

  fileprivate func replacingDoubleQuotes() -> String {
    String(map { $0 == "\"" ? "'" : $0 })
  }
}
