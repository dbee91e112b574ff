import WeightScopeModel

/// A leading name component that wraps every model tensor of a PyTorch file.
///
/// `module.` (DataParallel / DistributedDataParallel), `_orig_mod.` (torch.compile), and the
/// checkpoint keys `model.`, `state_dict.`, `model_state_dict.` (Lightning and training-loop
/// checkpoints). Layers are named without it; tensors keep the names the file spells.
struct NamePrefix: Equatable, Sendable {
  /// The stripped text, with its trailing dot: `module.`, `model.module.`.
  var text: String
  /// Why each component is there, in order.
  var reasons: [String]

  /// Wrapper components and what puts them there.
  static let known: [(String, String)] = [
    ("module", "DataParallel/DDP"), ("_orig_mod", "torch.compile"),
    ("model", "Lightning or training-loop checkpoint"), ("state_dict", "checkpoint section"),
    ("model_state_dict", "checkpoint section"),
  ]

  /// The prefix every main-section tensor shares, or nil.
  ///
  /// A component is stripped only when every main-section tensor has it and keeps at least a
  /// module and a local name after it, so `model.weight` of a one-layer model stays as it is.
  static func detect(_ tensors: [TensorInfo]) -> NamePrefix? {
    let names = tensors.lazy.filter { $0.section.isEmpty }.map(\.name)
    guard !names.isEmpty else { return nil }
    var prefix = NamePrefix(text: "", reasons: [])
    while true {
      var matched: (String, String)?
      for (component, reason) in known {
        let head = prefix.text + component + "."
        let all = names.allSatisfy { name in
          name.hasPrefix(head) && name.dropFirst(head.count).contains(".")
        }
        if all {
          matched = (component, reason)
          break
        }
      }
      guard let (component, reason) = matched else { break }
      prefix.text += component + "."
      prefix.reasons.append(reason)
    }
    return prefix.text.isEmpty ? nil : prefix
  }

  /// The finding that reports the prefix.
  var finding: Finding {
    Finding(
      .info, "naming.prefix",
      "prefix `\(text)` detected (\(reasons.joined(separator: ", "))); layers are shown without it")
  }

  /// `name` without the prefix, when it has it.
  func strip(_ name: String) -> String {
    name.hasPrefix(text) ? String(name.dropFirst(text.count)) : name
  }
}

/// Places a PyTorch tensor, naming its layer without the file's wrapper prefix.
///
/// A tensor of a secondary section (neither the model's `""` nor optimizer state) goes to one
/// layer named after its section, as `otherSection`.
func placePyTorch(name: String, section: String, prefix: NamePrefix?) -> Placement {
  if !section.isEmpty && !isOptimizerSection(section) {
    return Placement(layer: section, localName: name, role: .otherSection)
  }
  guard let prefix, section.isEmpty, name.hasPrefix(prefix.text) else {
    return placePyTorch(name: name, section: section)
  }
  let (module, local) = splitModule(prefix.strip(name))
  return Placement(layer: module, localName: local, role: role(forLocalName: local))
}
