import Foundation
import Testing
import WeightScope
import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel

/// `TestModels/`, found from this file's place in the checkout.
let testModels = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("TestModels")

func testModel(_ name: String) -> String { testModels.appendingPathComponent(name).path }

/// A `TestModels/*.reference.json`: what torch and onnx say about a file
/// (`tools/make_test_models.py` wrote them).
struct Reference {
  struct Tensor { var name: String; var shape: [Int]; var dtype: String }
  struct Layer { var name: String; var kind: String; var className: String; var tensors: [String] }

  var file: String
  var tensors: [Tensor]
  var elements: Int
  /// Elements of ONNX Constant nodes, which the reference lists apart from initializers.
  var constantElements: Int
  var constantOutputs: Set<String>
  var trainable: Int?
  var nonTrainable: Int?
  var frozen: Int
  var numBatchesTracked: Int
  var layers: [Layer]

  init(path: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    file = try #require(root["file"] as? String)
    tensors = (root["tensors"] as? [[String: Any]] ?? []).map {
      Tensor(
        name: $0["name"] as? String ?? "", shape: $0["shape"] as? [Int] ?? [],
        dtype: $0["dtype"] as? String ?? "")
    }
    let totals = root["totals"] as? [String: Any] ?? [:]
    // ONNX references keep torch's own counts apart, under torch_totals.
    let counts = root["torch_totals"] as? [String: Any] ?? totals
    elements = totals["elements"] as? Int ?? 0
    constantElements = totals["constant_elements"] as? Int ?? 0
    constantOutputs = Set(
      (root["constant_nodes"] as? [[String: Any]] ?? []).compactMap { $0["output"] as? String })
    trainable = counts["trainable"] as? Int
    nonTrainable = counts["non_trainable"] as? Int
    frozen = counts["frozen_parameters"] as? Int ?? 0
    numBatchesTracked = counts["num_batches_tracked"] as? Int ?? 0
    layers = (root["layers"] as? [[String: Any]] ?? []).map {
      Layer(
        name: $0["name"] as? String ?? "", kind: $0["kind"] as? String ?? "",
        className: $0["class"] as? String ?? "", tensors: $0["tensors"] as? [String] ?? [])
    }
  }

  static var all: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: testModels.path)) ?? []
    return names.filter { $0.hasSuffix(".reference.json") }.sorted()
  }
}

/// The analysis kinds a torch class may come out as; more than one where the file cannot tell
/// them apart (a LayerNorm and a GroupNorm hold the same tensors).
func acceptedKinds(torchKind: String) -> Set<LayerKind>? {
  switch torchKind {
  case "Linear", "NonDynamicallyQuantizableLinear": [.linear]
  case "Bilinear": [.bilinear]
  case "Embedding": [.embedding]
  case "EmbeddingBag": [.embeddingbag]
  case "BatchNorm1d", "BatchNorm2d", "BatchNorm3d":
    [.batchnorm, .batchnorm1d, .batchnorm2d, .batchnorm3d]
  case "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d": [.instancenorm, .norm]
  case "LayerNorm": [.layernorm, .norm]
  case "GroupNorm": [.groupnorm, .norm]
  case "RMSNorm": [.rmsnorm, .norm]
  case "LSTM": [.lstm]
  case "GRU": [.gru]
  case "RNN": [.rnn]
  case "MultiheadAttention": [.multiheadattention]
  case "PReLU": [.prelu]
  default:
    LayerKind(rawValue: torchKind.lowercased()).map { [$0] }
  }
}

/// Files the tool cannot read yet, or reads differently from torch for a reason the file
/// itself imposes. Each is checked to fail or differ in exactly the stated way, so that the
/// gap stays visible and its closing shows up as a failing test to update.
enum KnownGap: Sendable {
  /// Not read at all: the error message contains the fragment.
  case unreadable(String)
  /// Read, but the check named in the closure holds instead of the reference's numbers.
  case differs(@Sendable (Analysis, Reference) -> Bool)

  static let byFile: [String: (reason: String, gap: KnownGap)] = [
    "frozen_backbone.pt": (
      "a state_dict does not record requires_grad: the frozen Linear counts as trainable",
      .differs { a, r in a.totals.trainable == (r.trainable ?? 0) + r.frozen }
    ),
    "small_bn_dynamo.onnx": (
      "the dynamo exporter folded bn1/bn2 into conv2: the file has no BatchNorm layers",
      .differs { a, _ in
        !a.layers.contains { $0.name == "bn1" || $0.name == "bn2" }
          && !a.layers.contains { $0.formula?.matches == false }
      }
    ),
  ]
}

@Suite struct GoldenTests {
  @Test func everyTestModelHasAReference() {
    #expect(Reference.all.count >= 30)
  }

  @Test(arguments: Reference.all)
  func matchesReference(_ referenceName: String) throws {
    let reference = try Reference(path: testModel(referenceName))
    let path = testModel(reference.file)
    let known = KnownGap.byFile[reference.file]
    let analysis: Analysis
    do {
      analysis = try WeightFileReader.inspect(path: path)
    } catch {
      guard case .unreadable(let fragment)? = known?.gap else {
        Issue.record("\(reference.file): \(error)")
        return
      }
      #expect(error.message.contains(fragment), "\(reference.file): \(error)")
      return
    }
    if let known {
      guard case .differs(let check) = known.gap else {
        Issue.record("\(reference.file) is listed as unreadable (\(known.reason)) but reads now")
        return
      }
      #expect(check(analysis, reference), "\(reference.file): no longer differs as known: \(known.reason)")
      return
    }

    // Tensors: names, shapes and dtypes; ONNX Constant-node outputs are the only additions.
    var byName: [String: TensorInfo] = [:]
    for t in analysis.tensors { byName[t.info.name] = t.info }
    for t in reference.tensors {
      let found = byName[t.name]
      #expect(found?.shape == t.shape, "\(reference.file): \(t.name)")
      #expect(found?.dtype.rawValue == t.dtype, "\(reference.file): \(t.name)")
    }
    let expectedNames = Set(reference.tensors.map(\.name)).union(reference.constantOutputs)
    let extra = analysis.tensors.map(\.info.name).filter { !expectedNames.contains($0) }
    #expect(extra.isEmpty, "\(reference.file): tensors torch does not list: \(extra)")
    #expect(
      analysis.totals.elements == reference.elements + reference.constantElements,
      "\(reference.file)")

    // Trainable and non-trainable counts as torch reports them; ONNX drops num_batches_tracked.
    if let trainable = reference.trainable, let nonTrainable = reference.nonTrainable {
      let dropped = analysis.file.format == .onnx ? reference.numBatchesTracked : 0
      #expect(analysis.totals.trainable == trainable, "\(reference.file)")
      #expect(analysis.totals.nonTrainable == nonTrainable - dropped, "\(reference.file)")
    }

    // The formula cross-check finds nothing to report.
    for layer in analysis.layers {
      #expect(
        layer.formula?.matches ?? true,
        "\(reference.file): \(layer.name): \(layer.formula?.problems ?? [])")
    }
    #expect(!analysis.findings.contains { $0.code == "formula.mismatch" }, "\(reference.file)")

    // Layer kinds against torch's classes (torch.nn ones; a model's own classes say nothing).
    let kinds = Dictionary(analysis.layers.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
    for layer in reference.layers where layer.className.hasPrefix("torch.nn.modules.") {
      guard let accepted = acceptedKinds(torchKind: layer.kind) else {
        Issue.record("\(reference.file): no kind known for torch class \(layer.kind)")
        continue
      }
      // Wrapper prefixes (`module.`, `_orig_mod.`, `state_dict.`) are shown without them.
      let prefixes = ["module.", "_orig_mod.", "model.", "state_dict.", "model_state_dict."]
      var name = layer.name
      while kinds[name] == nil, let prefix = prefixes.first(where: name.hasPrefix) {
        name.removeFirst(prefix.count)
      }
      let kind = kinds[name]
      #expect(
        kind.map(accepted.contains) == true,
        "\(reference.file): \(layer.name) is \(layer.kind) in torch, \(kind?.rawValue ?? "absent") here")
    }
  }
}
