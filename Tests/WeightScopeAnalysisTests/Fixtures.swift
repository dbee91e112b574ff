import WeightScopeModel

/// A float32 (or other dtype) tensor as a PyTorch state dict lists it.
func tensor(
  _ name: String, _ shape: [Int], _ dtype: DType = .float32, sharedWith: String? = nil,
  uses: [OperatorUse] = [], section: String = "", declaredTrainable: Bool? = nil
) -> TensorInfo {
  let elements = shape.reduce(1, *)
  return TensorInfo(
    name: name, shape: shape, dtype: dtype, elements: elements,
    bytes: dtype.byteCount(elements: elements) ?? 0, sharedWith: sharedWith,
    declaredTrainable: declaredTrainable, uses: uses, section: section)
}

/// Conv2d weight and bias, as `nn.Conv2d(inC, outC, k)` saves them.
func conv(_ module: String, _ inC: Int, _ outC: Int, k: Int = 3) -> [TensorInfo] {
  [tensor("\(module).weight", [outC, inC, k, k]), tensor("\(module).bias", [outC])]
}

/// BatchNorm2d's five state-dict entries.
func batchNorm(_ module: String, _ c: Int) -> [TensorInfo] {
  [
    tensor("\(module).weight", [c]), tensor("\(module).bias", [c]),
    tensor("\(module).running_mean", [c]), tensor("\(module).running_var", [c]),
    tensor("\(module).num_batches_tracked", [], .int64),
  ]
}

func linear(_ module: String, _ inF: Int, _ outF: Int) -> [TensorInfo] {
  [tensor("\(module).weight", [outF, inF]), tensor("\(module).bias", [outF])]
}

/// The state dict of the seed document's `nn.Sequential` CNN (3x32x32 input). Indices follow
/// the listing: 0 Conv, 1 ReLU, 2 Conv, 3 ReLU, 4 MaxPool, 5 BatchNorm, 6 Conv, 7 ReLU, 8 Conv,
/// 9 ReLU, 10 MaxPool, 11 BatchNorm, 12 Conv, 13 ReLU, 14 Conv, 15 ReLU, 16 MaxPool,
/// 17 BatchNorm, 18 Flatten, 19 Linear, 20 ReLU, 21 Linear, 22 ReLU, 23 Linear.
func seedCNN() -> WeightFile {
  var t: [TensorInfo] = []
  t += conv("0", 3, 32)
  t += conv("2", 32, 64)
  t += batchNorm("5", 64)
  t += conv("6", 64, 128)
  t += conv("8", 128, 128)
  t += batchNorm("11", 128)
  t += conv("12", 128, 256)
  t += conv("14", 256, 256)
  t += batchNorm("17", 256)
  t += linear("19", 256 * 4 * 4, 1024)
  t += linear("21", 1024, 512)
  t += linear("23", 512, 10)
  return WeightFile(path: "TestModels/seed_cnn.pt", format: .pytorchZip, tensors: t)
}
