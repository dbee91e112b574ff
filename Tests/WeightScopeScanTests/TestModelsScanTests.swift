import Testing
import WeightScopeCore
import WeightScopeModel
import WeightScopeScan

/// Real checkpoints: clean, except where they pickle whole modules.
@Suite struct TestModelsScanTests {
  static let files: [String] = [
    "seed_cnn.pt", "small_bn.pt", "small_bn_legacy.pt", "small_bn_ddp.pt", "mini_resnet.pt",
    "mlp_qdynamic.pt", "tied_lm.pt", "small_bn.ckpt", "rnn.onnx", "seed_cnn_external.onnx",
  ]

  @Test(arguments: files)
  func realCheckpointsAreClean(file: String) throws {
    let result = try Scanner.scan(path: "\(repositoryRoot)/TestModels/\(file)")
    #expect(result.verdict == .clean, "\(result.findings)")
  }

  @Test func aPickledModuleIsSuspicious() throws {
    let result = try Scanner.scan(path: "\(repositoryRoot)/TestModels/small_bn_module.pt")
    #expect(result.verdict == .suspicious)
    #expect(result.findings.contains { $0.message.contains("__main__.SmallBNNet") })
    #expect(result.findings.allSatisfy { $0.code == "pickle.unknown-global" })
  }

  @Test func torchScriptClassesAreInformation() throws {
    let result = try Scanner.scan(path: "\(repositoryRoot)/TestModels/small_bn_torchscript.pt")
    #expect(result.kind == "torchscript")
    #expect(result.findings.contains { $0.code == "pickle.torchscript-class" })
  }
}
