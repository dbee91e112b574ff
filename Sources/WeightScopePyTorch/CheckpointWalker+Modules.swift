import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

extension CheckpointWalker {
  /// Walks a whole pickled `nn.Module` or a TorchScript object; false when `object` is neither.
  ///
  /// A pickled `nn.Module` keeps its tensors in `_parameters` and `_buffers` and its children
  /// in `_modules`; a TorchScript object (`__torch__.*`) keeps tensors and children as plain
  /// attributes. Either way tensor names are the attribute path, as `state_dict()` names them,
  /// and the other public attributes (`in_channels`, `kernel_size`, `eps`) are recorded as the
  /// module's hyperparameters. Nothing is imported or called.
  mutating func walk(
    module object: PickleObject, value: PickleValue, path: WalkPath, section: String, depth: Int
  ) throws(ReadError) -> Bool {
    guard let callable = object.callableGlobal, let state = object.state,
      case .dict(let attributes)? = moduleAttributes(state)
    else { return false }
    let torchScript = callable.module == "__torch__" || callable.module.hasPrefix("__torch__.")
    let isModule =
      torchScript
      || attributes.contains {
        $0.key == .string("_modules") || $0.key == .string("_parameters")
      }
    guard isModule else { return false }

    var info = ModuleInfo(
      path: path.name,
      className: torchScript ? Self.scriptClassName(callable) : callable.description)
    let slot = modules.count
    modules.append(info)
    moduleClasses.append(callable)
    for attribute in attributes {
      guard case .string(let key) = attribute.key else { continue }
      switch key {
      case "_parameters", "_buffers", "_modules":
        let flag: Bool? = key == "_parameters" ? true : key == "_buffers" ? false : nil
        try walk(attribute.value, path: path, section: section, declared: flag, depth: depth + 1)
      case "_non_persistent_buffers_set":
        info.nonPersistentBuffers = stringSet(attribute.value)
      case "training":
        continue
      default:
        guard !key.hasPrefix("_") else { continue }
        if torchScript, try isTensorOrModule(attribute.value, name: path.appending(key).name) {
          try walk(attribute.value, path: path.appending(key), section: section, declared: nil, depth: depth + 1)
        } else if let text = hyperparameter(attribute.value) {
          info.attributes.append(FileFact(key, text))
        }
      }
    }
    if modules.indices.contains(slot) { modules[slot] = info }
    return true
  }

  /// `__torch__.torch.nn.modules.conv.___torch_mangle_0.Conv2d` -> `torch.nn.modules.conv.Conv2d`.
  static func scriptClassName(_ global: PickleGlobal) -> String {
    let parts = (global.module.split(separator: ".").map(String.init) + [global.name])
      .filter { $0 != "__torch__" && !$0.hasPrefix("___torch_mangle_") }
    return parts.joined(separator: ".")
  }

  /// Whether a TorchScript attribute holds a tensor or a child object to walk.
  private mutating func isTensorOrModule(_ value: PickleValue, name: String) throws(ReadError)
    -> Bool
  {
    guard case .object(let object)? = document.node(value) else { return false }
    if try tensor(value, name: name) != nil { return true }
    guard let callable = object.callableGlobal else { return false }
    return callable.module == "__torch__" || callable.module.hasPrefix("__torch__.")
  }

  /// A hyperparameter's value in Python spelling; nil for what is not a small plain value.
  private func hyperparameter(_ value: PickleValue) -> String? {
    switch value {
    case .none, .bool, .int, .float, .string: return document.describe(value, budget: 1)
    case .node:
      switch document.node(value) {
      case .tuple(let items)?, .list(let items)?:
        guard items.count <= 8, items.allSatisfy({ $0.intValue != nil || $0 == .none }) else {
          return nil
        }
        return document.describe(value, budget: 10)
      case .object(let call)?:
        // TorchScript spells int lists as `torch.jit._pickle.build_intlist([1, 1])`.
        guard call.callableGlobal?.module == "torch.jit._pickle",
          let first = document.sequence(call.arguments)?.first
        else { return nil }
        return hyperparameter(first)
      default: return nil
      }
    default: return nil
    }
  }

  /// The strings of a pickled `set([...])`.
  private func stringSet(_ value: PickleValue) -> [String] {
    guard case .object(let call)? = document.node(value),
      let first = document.sequence(call.arguments)?.first, let items = document.sequence(first)
    else { return [] }
    return items.compactMap(\.stringValue)
  }
}
