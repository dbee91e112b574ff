import WeightScopeCore
import WeightScopeModel
import WeightScopePickle
import WeightScopeZip

/// Completes a TorchScript archive's module tree from the class headers in `code/`.
enum TorchScriptModules {
  /// Adds each module's `Final` constants (`in_channels`, `kernel_size`, `eps`) to its
  /// attributes, and marks its tensors as parameters or buffers as `__parameters__` and
  /// `__buffers__` list them; a parameter's `requires_grad` decides whether it is trainable.
  ///
  /// - Returns: findings for class sources that are missing or unreadable.
  static func complete(
    _ contents: inout CheckpointContents, zip: ZipArchive, limits: Limits
  ) -> [Finding] {
    var sources: [String: String?] = [:]
    var findings: [Finding] = []
    var indexOfTensor: [String: Int] = [:]
    for (i, tensor) in contents.tensors.enumerated() where indexOfTensor[tensor.name] == nil {
      indexOfTensor[tensor.name] = i
    }
    for (m, global) in contents.moduleClasses.enumerated() where contents.modules.indices.contains(m) {
      guard let entryName = TorchScriptClass.entryName(for: global) else { continue }
      if sources[entryName] == nil {
        sources[entryName] = .some(source(entryName, zip: zip, limits: limits))
        if sources[entryName] == .some(nil) {
          findings.append(
            Finding(
              .info, "torchscript.code-missing",
              "\(entryName) is missing or unreadable: \(global) is listed without its constants"))
        }
      }
      guard case .some(.some(let text)) = sources[entryName],
        let header = TorchScriptClass(named: global.name, in: text[...])
      else { continue }
      contents.modules[m].attributes += header.constants
      let path = contents.modules[m].path
      for (names, isParameter) in [(header.parameters, true), (header.buffers, false)] {
        for name in names {
          guard let i = indexOfTensor[path.isEmpty ? name : path + "." + name] else { continue }
          contents.tensors[i].declaredParameter = isParameter
          if isParameter, contents.requiresGrad.indices.contains(i) {
            contents.tensors[i].declaredTrainable = contents.requiresGrad[i]
          }
        }
      }
    }
    return findings
  }

  /// The text of a `code/` entry, nil when it is missing, too large or corrupt.
  private static func source(_ name: String, zip: ZipArchive, limits: Limits) -> String? {
    guard let entry = zip.entry(relative: name) else { return nil }
    do throws(ReadError) {
      var data = try zip.contents(of: entry, limits: limits)
      try zip.verifyCRC(of: entry, data: data)
      return try data.readString(data.remaining, "source")
    } catch {
      return nil
    }
  }
}
