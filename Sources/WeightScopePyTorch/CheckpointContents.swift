import WeightScopePickle
import WeightScopeModel

/// A storage record in a checkpoint archive (`<top>/data/<key>`).
public struct StorageRecord: Sendable, Equatable {
  /// The record's name under `data/` (`"0"`).
  public var key: String
  /// Size of the record's data, in bytes.
  public var byteCount: Int
  /// Absolute offset of the record's first byte in the file, when it is stored uncompressed.
  public var fileOffset: Int?

  public init(key: String, byteCount: Int, fileOffset: Int? = nil) {
    self.key = key
    self.byteCount = byteCount
    self.fileOffset = fileOffset
  }
}

/// What a checkpoint's `data.pkl` says: its tensors in pickle order, facts and findings.
public struct CheckpointContents: Sendable, Equatable {
  public var tensors: [TensorInfo]
  public var facts: [FileFact]
  public var findings: [Finding]
  /// The module tree, for a whole pickled module or a TorchScript archive.
  public var modules: [ModuleInfo] = []
  /// The class global of each of ``modules``.
  var moduleClasses: [PickleGlobal] = []
  /// `requires_grad` of each of ``tensors`` as its rebuild call states it.
  var requiresGrad: [Bool] = []
  /// Every global the pickle referenced (``PickleDocument/globals``), for a scan of the same
  /// pickle to judge without running it again; empty when the document was run elsewhere.
  public var pickleGlobals: [PickleGlobalUse] = []
  /// Offset just past the pickle's STOP (``PickleDocument/endOffset``); 0 when not known.
  public var pickleEnd = 0

  public init(tensors: [TensorInfo] = [], facts: [FileFact] = [], findings: [Finding] = []) {
    self.tensors = tensors
    self.facts = facts
    self.findings = findings
  }
}
