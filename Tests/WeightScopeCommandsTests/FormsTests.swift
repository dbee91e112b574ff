import Foundation
import Testing
import WeightScope
import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel

/// `TestModels/<name>`, found from this file's place in the checkout.
private func model(_ name: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("TestModels/\(name)").path
}

/// The `<file>.reference.json` torch wrote beside each test model.
private func reference(_ name: String) throws -> [String: Any] {
  let data = try Data(contentsOf: URL(fileURLWithPath: model(name + ".reference.json")))
  return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

/// Every form of SmallBNNet that TestModels holds.
private let smallBNForms = [
  "small_bn.pt", "small_bn_ddp.pt", "small_bn_compiled.pt", "small_bn_module.pt",
  "small_bn_torchscript.pt", "small_bn_legacy.pt", "small_bn.ckpt", "small_bn_train.pt",
]

@Suite struct FormsTests {
  @Test(arguments: smallBNForms)
  func eachFormMatchesTorch(_ name: String) throws {
    let analysis = try WeightFileReader.inspect(path: model(name))
    let ref = try reference(name)
    #expect(analysis.file.format.rawValue == ref["format"] as? String)

    // Tensors keep the names the file spells, with torch's shapes and dtypes.
    let refTensors = try #require(ref["tensors"] as? [[String: Any]])
    #expect(analysis.file.tensors.map(\.name) == refTensors.compactMap { $0["name"] as? String })
    for (tensor, expected) in zip(analysis.file.tensors, refTensors) {
      #expect(tensor.shape == expected["shape"] as? [Int], "\(tensor.name)")
      #expect(tensor.dtype.rawValue == expected["dtype"] as? String, "\(tensor.name)")
      #expect(tensor.bytes == int(expected["bytes"]), "\(tensor.name)")
    }

    // Totals: the model's, whatever surrounds it.
    let totals = try #require(ref["totals"] as? [String: Any])
    #expect(analysis.totals.trainable == int(totals["trainable"]))
    #expect(analysis.totals.nonTrainable == int(totals["non_trainable"]))
    #expect(analysis.totals.elements == int(totals["elements"]))
    #expect(analysis.totals.nonTrainableBreakdown.runningStats == int(totals["running_stats"]))

    // Layers: torch's module names without the wrapper prefix, in order; all formulas hold.
    let prefix = ref["name_prefix"] as? String ?? ""
    let refLayers = try #require(ref["layers"] as? [[String: Any]]).compactMap {
      ($0["name"] as? String).map { String($0.dropFirst(prefix.count)) }
    }
    let modelLayers = analysis.layers.filter { $0.kind != .optimizer }
    #expect(modelLayers.map(\.name) == refLayers)
    #expect(modelLayers.allSatisfy { $0.formula?.matches == true })
    if !prefix.isEmpty {
      #expect(
        analysis.findings.contains {
          $0.code == "naming.prefix" && $0.message.contains("`\(prefix)`")
        })
    }
  }

  @Test func allFormsAgree() throws {
    var seen: [String] = []
    for name in smallBNForms {
      let a = try WeightFileReader.inspect(path: model(name))
      let layers = a.layers.filter { $0.kind != .optimizer }
      seen.append(
        layers.map { "\($0.name):\($0.kind.rawValue):\($0.trainable):\($0.nonTrainable)" }
          .joined(separator: ",") + " \(a.totals.trainable)/\(a.totals.nonTrainable)")
    }
    #expect(Set(seen).count == 1, "\(seen)")
  }

  @Test(arguments: ["small_bn.ckpt", "small_bn_train.pt"])
  func optimizerStateIsApart(_ name: String) throws {
    let analysis = try WeightFileReader.inspect(path: model(name))
    let ref = try reference(name)
    let optimizer = try #require(ref["optimizer"] as? [String: Any])
    let tensors = try #require(optimizer["tensors"] as? [[String: Any]])
    let elements = tensors.compactMap { int($0["elements"]) }.reduce(0, +)
    #expect(analysis.totals.optimizerState == elements)
    #expect(analysis.totals.parameters == 1644)
    let state = analysis.tensors.filter { $0.role == .optimizerState }
    #expect(state.map(\.info.name) == tensors.compactMap { $0["name"] as? String })
    let section = try #require(optimizer["section"] as? String)
    #expect(state.allSatisfy { !$0.trainable && section.hasPrefix($0.info.section) })
    let sections = try #require(analysis.file.facts.first { $0.key == "sections" })
    let weights = try #require(ref["weights_section"] as? String)
    #expect(sections.value.contains("\(weights) (15 tensors, 1644 elements, model weights)"))
    #expect(sections.value.contains("Adam"))
    #expect(analysis.file.facts.contains { $0.key == "epoch" && $0.value == "3" })
    #expect(analysis.file.facts.contains { $0.key == "global_step" && $0.value == "120" })
  }

  @Test(arguments: ["small_bn_module.pt", "small_bn_torchscript.pt"])
  func moduleTreeWithHyperparameters(_ name: String) throws {
    let file = try WeightFileReader.read(path: model(name))
    let ref = try reference(name)
    let layers = try #require(ref["layers"] as? [[String: Any]])
    #expect(file.modules.first?.path == "")
    #expect(file.modules.first?.className.hasSuffix("SmallBNNet") == true)
    for layer in layers {
      let path = try #require(layer["name"] as? String)
      let module = try #require(file.modules.first { $0.path == path }, "\(path)")
      #expect(module.className == layer["class"] as? String)
      let hyper = try #require(layer["hyper"] as? [String: Any])
      for key in ["in_channels", "out_channels", "groups", "num_features", "in_features"] {
        guard let value = int(hyper[key]) else { continue }
        #expect(module.attribute(key) == String(value), "\(path).\(key)")
      }
      if let kernel = hyper["kernel_size"] as? [Int] {
        let text = try #require(module.attribute("kernel_size"))
        #expect(text.filter(\.isNumber) == kernel.map(String.init).joined(), "\(path)")
      }
    }
    // Both forms say which tensors are parameters (`_parameters` / `__parameters__`): exact,
    // not inferred. The whole-module reference records torch's answer.
    let moduleTensors = try #require(
      try reference("small_bn_module.pt")["tensors"] as? [[String: Any]])
    #expect(file.tensors.count == moduleTensors.count)
    for (tensor, expected) in zip(file.tensors, moduleTensors) {
      let parameter = expected["parameter"] as? Bool ?? false
      #expect(tensor.declaredParameter == parameter, "\(tensor.name)")
      #expect(tensor.declaredTrainable == (parameter ? true : nil), "\(tensor.name)")
    }
    if name == "small_bn_module.pt" {
      #expect(!file.findings.contains { $0.code == "pickle.opaque-object" })
    } else {
      #expect(file.findings.contains { $0.code == "torchscript.classes" })
      #expect(!file.findings.contains { $0.code == "pickle.unknown-global" })
    }
  }

  @Test func legacyListingIgnoresStorageBytes() throws {
    let path = model("small_bn_legacy.pt")
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let file = try WeightFileReader.read(path: path)
    // Overwrite every storage's data (not its 8-byte size) with garbage of the same size.
    var garbled = original
    var covered = 0
    for tensor in file.tensors {
      let storage = try #require(tensor.storage)
      let start = try #require(storage.fileOffset) - storage.offsetElements * 4
      let count = try #require(storage.recordBytes)
      for i in start..<(start + count) { garbled[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
      covered += count
    }
    #expect(garbled != original)
    #expect(covered == 6584)
    let again = try WeightFileReader.read(FileBytes(copying: garbled), path: path)
    #expect(again.tensors == file.tensors)
    #expect(again.facts == file.facts)
  }

  @Test func legacyRejectsBrokenLayouts() throws {
    let path = model("small_bn_legacy.pt")
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    // Cut inside the last storage: its stored size overruns the file.
    #expect(throws: ReadError.self) {
      try WeightFileReader.read(FileBytes(copying: original.dropLast(10)), path: path)
    }
    // A huge element count in the first storage header.
    let file = try WeightFileReader.read(path: path)
    let offsets = file.tensors.compactMap { $0.storage?.fileOffset }
    let firstData = try #require(offsets.min())
    var huge = original
    for i in (firstData - 8)..<firstData { huge[i] = 0x7f }
    do {
      _ = try WeightFileReader.read(FileBytes(copying: huge), path: path)
      Issue.record("a storage larger than the file was accepted")
    } catch {
      #expect(error.kind == .overflow || error.kind == .truncated)
    }
    // A storage key the object pickle uses but the key list lacks (same length, one digit off).
    let firstStorage = file.tensors.first?.storage
    let key = try #require(firstStorage?.key)
    let keyBytes = Array(key.utf8)
    let last = try #require(keyBytes.last)
    let listStart = try #require(
      (0..<(firstData - keyBytes.count)).last {
        Array(original[$0..<($0 + keyBytes.count)]) == keyBytes
      })
    var renamed = original
    renamed[listStart + keyBytes.count - 1] = last == UInt8(ascii: "9") ? 0x30 : last + 1
    do {
      _ = try WeightFileReader.read(FileBytes(copying: renamed), path: path)
      Issue.record("a storage key missing from the key list was accepted")
    } catch {
      #expect(error.kind == .malformed)
    }
  }

  @Test(arguments: ["exotic_dtypes.pt", "all_dtypes.pt", "mlp_qdynamic.pt"])
  func dtypesMatchTorch(_ name: String) throws {
    let file = try WeightFileReader.read(path: model(name))
    let refTensors = try #require(try reference(name)["tensors"] as? [[String: Any]])
    #expect(file.tensors.map(\.name) == refTensors.compactMap { $0["name"] as? String })
    for (tensor, expected) in zip(file.tensors, refTensors) {
      #expect(tensor.dtype.rawValue == expected["dtype"] as? String, "\(tensor.name)")
      #expect(tensor.elements == int(expected["elements"]), "\(tensor.name)")
      #expect(tensor.bytes == int(expected["bytes"]), "\(tensor.name)")
      if let scheme = expected["quantized"] as? String {
        #expect(tensor.notes.contains("qscheme=\(scheme)"), "\(tensor.notes)")
        #expect(tensor.notes.contains { $0.hasPrefix("scale=") })
        #expect(tensor.notes.contains { $0.hasPrefix("zero_point=") })
      }
    }
  }

  @Test func seedCNNCount() throws {
    let analysis = try WeightFileReader.inspect(path: model("seed_cnn.pt"))
    #expect(analysis.totals.trainable == 5_852_234)
  }
}

@Suite struct ModuleHyperparameterTests {
  private func conv(_ weight: [Int], module: ModuleInfo) -> Analysis {
    let elements = weight.reduce(1, *)
    var file = WeightFile(
      path: "net.pt", format: .pytorchZip,
      tensors: [
        TensorInfo(
          name: "dw.weight", shape: weight, dtype: .float32, elements: elements,
          bytes: elements * 4, declaredTrainable: true, declaredParameter: true)
      ])
    file.modules = [ModuleInfo(path: "", className: "__main__.Net"), module]
    return analyze(file)
  }

  @Test func realGroupsReplaceTheAssumption() throws {
    // A depthwise conv: the shapes alone cannot tell groups=8 from groups=1 with 1 input.
    let module = ModuleInfo(
      path: "dw", className: "torch.nn.modules.conv.Conv2d",
      attributes: [
        FileFact("in_channels", "8"), FileFact("out_channels", "8"),
        FileFact("kernel_size", "(3, 3)"), FileFact("groups", "8"),
      ])
    let analysis = conv([8, 1, 3, 3], module: module)
    let layer = try #require(analysis.layers.first { $0.name == "dw" })
    #expect(layer.formula?.matches == true)
    #expect(layer.formula?.text.contains("8/8") == true)
    #expect(!layer.notes.contains { $0.contains("groups=1 assumed") })
    #expect(layer.notes.contains { $0.contains("torch.nn.modules.conv.Conv2d") })
  }

  @Test func contradictingHyperparametersAreAFinding() throws {
    let module = ModuleInfo(
      path: "dw", className: "torch.nn.modules.conv.Conv2d",
      attributes: [
        FileFact("in_channels", "4"), FileFact("out_channels", "8"),
        FileFact("kernel_size", "(3, 3)"), FileFact("groups", "1"),
      ])
    let analysis = conv([8, 3, 3, 3], module: module)
    #expect(analysis.findings.contains { $0.code == "formula.mismatch" })
  }
}

@Suite struct SecondarySectionTests {
  @Test func emaCopyIsListedNotCounted() throws {
    func tensor(_ name: String, _ shape: [Int], section: String = "") -> TensorInfo {
      let n = shape.reduce(1, *)
      return TensorInfo(
        name: name, shape: shape, dtype: .float32, elements: n, bytes: n * 4, section: section)
    }
    let file = WeightFile(
      path: "train.pt", format: .pytorchZip,
      tensors: [
        tensor("model.fc.weight", [10, 16]), tensor("model.fc.bias", [10]),
        tensor("ema.fc.weight", [10, 16], section: "ema"),
        tensor("ema.fc.bias", [10], section: "ema"),
        tensor("optimizer.state.0.exp_avg", [10, 16], section: "optimizer"),
      ])
    let analysis = analyze(file)
    #expect(analysis.totals.trainable == 170)
    #expect(analysis.totals.parameters == 170)
    #expect(analysis.totals.otherSections == 170)
    #expect(analysis.totals.optimizerState == 160)
    #expect(analysis.totals.elements == 500)
    #expect(analysis.layers.map(\.name) == ["fc", "ema", "optimizer"])
    #expect(analysis.layers.map(\.kind) == [.linear, .section, .optimizer])
    let ema = analysis.tensors.filter { $0.info.section == "ema" }
    #expect(ema.allSatisfy { $0.role == .otherSection && !$0.trainable && !$0.isParameter })
    #expect(analysis.findings.contains { $0.code == "naming.prefix" })
  }
}
