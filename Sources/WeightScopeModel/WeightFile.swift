/// The container formats WeightScope reads, named as the JSON contract names them.
public enum FileFormat: String, Sendable, Equatable, Codable, CaseIterable {
  case pytorchZip = "pytorch-zip"
  case pytorchLegacy = "pytorch-legacy"
  case torchscript
  case onnx
}

/// A fact about the file as a whole, shown in reports: `producer = pytorch 2.5.1`.
public struct FileFact: Sendable, Equatable, Codable {
  public var key: String
  public var value: String

  public init(_ key: String, _ value: String) {
    self.key = key
    self.value = value
  }
}

/// Everything a reader found in one file: its tensors in file order, facts, and findings.
///
/// Readers fill this; the analysis groups its tensors into layers and counts them.
public struct WeightFile: Sendable, Equatable, Codable {
  public var path: String
  public var format: FileFormat
  public var tensors: [TensorInfo]
  public var facts: [FileFact]
  public var findings: [Finding]
  /// The module tree, root first, when the file holds whole modules (a pickled `nn.Module`,
  /// a TorchScript archive); empty for a plain state dict.
  public var modules: [ModuleInfo] = []

  public init(path: String, format: FileFormat, tensors: [TensorInfo] = [], facts: [FileFact] = [], findings: [Finding] = []) {
    self.path = path
    self.format = format
    self.tensors = tensors
    self.facts = facts
    self.findings = findings
  }
}

/// One module of a model tree that a file spells out (a whole pickled `nn.Module`, a
/// TorchScript archive): its path, class and hyperparameters, as the file states them.
public struct ModuleInfo: Sendable, Equatable, Codable {
  /// Dotted path from the root module (`layer1.0.conv1`); empty for the root.
  public var path: String
  /// The class as the file names it (`torch.nn.modules.conv.Conv2d`, `__main__.Net`).
  public var className: String
  /// Hyperparameter attributes in file order, values in Python spelling (`kernel_size` =
  /// `(3, 3)`, `eps` = `1e-05`).
  public var attributes: [FileFact]
  /// Buffers the module keeps but does not save (`_non_persistent_buffers_set`).
  public var nonPersistentBuffers: [String]

  public init(
    path: String, className: String, attributes: [FileFact] = [], nonPersistentBuffers: [String] = []
  ) {
    self.path = path
    self.className = className
    self.attributes = attributes
    self.nonPersistentBuffers = nonPersistentBuffers
  }

  /// The value of attribute `key`, when the module has it.
  public func attribute(_ key: String) -> String? {
    attributes.first { $0.key == key }?.value
  }
}
