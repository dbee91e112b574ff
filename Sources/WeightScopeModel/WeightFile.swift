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

  public init(path: String, format: FileFormat, tensors: [TensorInfo] = [], facts: [FileFact] = [], findings: [Finding] = []) {
    self.path = path
    self.format = format
    self.tensors = tensors
    self.facts = facts
    self.findings = findings
  }
}
