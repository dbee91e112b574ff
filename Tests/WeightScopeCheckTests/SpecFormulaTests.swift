import Testing
import WeightScopeAnalysis
import WeightScopeSpec

@testable import WeightScopeCheck

/// Each row: a layer as a spec writes it, then what PyTorch 2.15 reports for that module:
/// `sum(p.numel() for p in m.parameters())` (trainable), `sum(b.numel() for b in m.buffers())`
/// (non-trainable) and `[(k, list(v.shape)) for k, v in m.state_dict().items()]` (the tensors,
/// in registration order). Printed by running each constructor under torch 2.15.0.
let torchModules: [(String, Int, Int, [(String, [Int])])] = [
  ("Conv2d(3, 32, 3)", 896, 0, [("weight", [32, 3, 3, 3]), ("bias", [32])]),
  ("Conv2d(64, 64, 3, groups=64, bias=False)", 576, 0, [("weight", [64, 1, 3, 3])]),
  ("Conv1d(16, 33, 5, dilation=2)", 2673, 0, [("weight", [33, 16, 5]), ("bias", [33])]),
  ("Conv3d(4, 8, (3, 5, 2))", 968, 0, [("weight", [8, 4, 3, 5, 2]), ("bias", [8])]),
  ("ConvTranspose2d(8, 12, 4, groups=2)", 780, 0, [("weight", [8, 6, 4, 4]), ("bias", [12])]),
  ("ConvTranspose1d(6, 3, 5)", 93, 0, [("weight", [6, 3, 5]), ("bias", [3])]),
  ("Linear(4096, 1024)", 4195328, 0, [("weight", [1024, 4096]), ("bias", [1024])]),
  ("Linear(10, 5, bias=False)", 50, 0, [("weight", [5, 10])]),
  ("Bilinear(4, 6, 3)", 75, 0, [("weight", [3, 4, 6]), ("bias", [3])]),
  ("Embedding(50, 8, padding_idx=0)", 400, 0, [("weight", [50, 8])]),
  ("EmbeddingBag(40, 6, mode=\"sum\")", 240, 0, [("weight", [40, 6])]),
  ("BatchNorm2d(64)", 128, 129, [("weight", [64]), ("bias", [64]), ("running_mean", [64]), ("running_var", [64]), ("num_batches_tracked", [])]),
  ("BatchNorm1d(6, affine=False)", 0, 13, [("running_mean", [6]), ("running_var", [6]), ("num_batches_tracked", [])]),
  ("BatchNorm3d(5, track_running_stats=False)", 10, 0, [("weight", [5]), ("bias", [5])]),
  ("InstanceNorm2d(16)", 0, 0, []),
  ("InstanceNorm1d(16, affine=True, track_running_stats=True)", 32, 33, [("weight", [16]), ("bias", [16]), ("running_mean", [16]), ("running_var", [16]), ("num_batches_tracked", [])]),
  ("LayerNorm((4, 4), bias=False)", 16, 0, [("weight", [4, 4])]),
  ("LayerNorm(16)", 32, 0, [("weight", [16]), ("bias", [16])]),
  ("GroupNorm(4, 16)", 32, 0, [("weight", [16]), ("bias", [16])]),
  ("RMSNorm(16)", 16, 0, [("weight", [16])]),
  ("RNN(10, 20, num_layers=2)", 1480, 0, [("weight_ih_l0", [20, 10]), ("weight_hh_l0", [20, 20]), ("bias_ih_l0", [20]), ("bias_hh_l0", [20]), ("weight_ih_l1", [20, 20]), ("weight_hh_l1", [20, 20]), ("bias_ih_l1", [20]), ("bias_hh_l1", [20])]),
  ("LSTM(8, 16, num_layers=2, bidirectional=True)", 9728, 0, [("weight_ih_l0", [64, 8]), ("weight_hh_l0", [64, 16]), ("bias_ih_l0", [64]), ("bias_hh_l0", [64]), ("weight_ih_l0_reverse", [64, 8]), ("weight_hh_l0_reverse", [64, 16]), ("bias_ih_l0_reverse", [64]), ("bias_hh_l0_reverse", [64]), ("weight_ih_l1", [64, 32]), ("weight_hh_l1", [64, 16]), ("bias_ih_l1", [64]), ("bias_hh_l1", [64]), ("weight_ih_l1_reverse", [64, 32]), ("weight_hh_l1_reverse", [64, 16]), ("bias_ih_l1_reverse", [64]), ("bias_hh_l1_reverse", [64])]),
  ("LSTM(10, 20, proj_size=5)", 1460, 0, [("weight_ih_l0", [80, 10]), ("weight_hh_l0", [80, 5]), ("bias_ih_l0", [80]), ("bias_hh_l0", [80]), ("weight_hr_l0", [5, 20])]),
  ("GRU(32, 12, bias=False)", 1584, 0, [("weight_ih_l0", [36, 32]), ("weight_hh_l0", [36, 12])]),
  ("MultiheadAttention(32, 4)", 4224, 0, [("in_proj_weight", [96, 32]), ("in_proj_bias", [96]), ("out_proj.weight", [32, 32]), ("out_proj.bias", [32])]),
  ("MultiheadAttention(16, 2, kdim=8, vdim=12, add_bias_kv=True)", 928, 0, [("q_proj_weight", [16, 16]), ("k_proj_weight", [16, 8]), ("v_proj_weight", [16, 12]), ("in_proj_bias", [48]), ("bias_k", [1, 1, 16]), ("bias_v", [1, 1, 16]), ("out_proj.weight", [16, 16]), ("out_proj.bias", [16])]),
  ("TransformerEncoderLayer(32, 4, dim_feedforward=64)", 8544, 0, [("self_attn.in_proj_weight", [96, 32]), ("self_attn.in_proj_bias", [96]), ("self_attn.out_proj.weight", [32, 32]), ("self_attn.out_proj.bias", [32]), ("linear1.weight", [64, 32]), ("linear1.bias", [64]), ("linear2.weight", [32, 64]), ("linear2.bias", [32]), ("norm1.weight", [32]), ("norm1.bias", [32]), ("norm2.weight", [32]), ("norm2.bias", [32])]),
  ("TransformerDecoderLayer(16, 2, dim_feedforward=32, bias=False)", 3120, 0, [("self_attn.in_proj_weight", [48, 16]), ("self_attn.out_proj.weight", [16, 16]), ("multihead_attn.in_proj_weight", [48, 16]), ("multihead_attn.out_proj.weight", [16, 16]), ("linear1.weight", [32, 16]), ("linear2.weight", [16, 32]), ("norm1.weight", [16]), ("norm2.weight", [16]), ("norm3.weight", [16])]),
  ("PReLU(8)", 8, 0, [("weight", [8])]),
  ("PReLU()", 1, 0, [("weight", [1])]),
  ("ReLU()", 0, 0, []),
  ("MaxPool2d(2)", 0, 0, []),
  ("Flatten()", 0, 0, []),
  ("Dropout(0.5)", 0, 0, []),
]

@Suite struct SpecFormulaTests {
  static func module(_ source: String) throws -> SpecModule {
    let spec = try SpecParser.parsePython("nn.Sequential(nn.\(source))")
    return try #require(spec.modules.first)
  }

  @Test(arguments: torchModules.indices)
  func countsAndShapesMatchTorch(_ index: Int) throws {
    let (source, trainable, nonTrainable, tensors) = torchModules[index]
    let formula = try SpecFormula.formula(for: Self.module(source))
    #expect(formula.trainable == trainable, "\(source)")
    #expect(formula.nonTrainable == nonTrainable, "\(source)")
    #expect(formula.tensors.map(\.name) == tensors.map(\.0), "\(source)")
    #expect(formula.tensors.map(\.shape) == tensors.map(\.1), "\(source)")
    #expect(formula.tensors.filter { !$0.trainable }.count <= tensors.count)
  }

  @Test func formulaTextIsWrittenAsByHand() throws {
    #expect(try SpecFormula.formula(for: Self.module("Conv2d(64, 128, 3, padding=1)")).text
      == "((3*3*64)+1)*128")
    #expect(try SpecFormula.formula(for: Self.module("Linear(256*4*4, 1024)")).text
      == "(4096*1024)+1024")
    let bn = try SpecFormula.formula(for: Self.module("BatchNorm2d(64)"))
    #expect(bn.trainableText == "2*64" && bn.nonTrainableText == "2*64 + 1")
  }

  @Test func argumentsThatDoNotFitPointAtTheLayer() throws {
    let spec = try SpecParser.parsePython("nn.Sequential(\n  nn.ReLU(),\n  nn.Conv2d(10, 8, 3, groups=4))", file: "m.py")
    let module = try #require(spec.modules.last)
    #expect {
      _ = try SpecFormula.formula(for: module, file: "m.py")
    } throws: { error in
      let e = error as? SpecError
      return e?.kind == .argument && e?.line == 3 && e?.file == "m.py"
        && (e?.message.contains("groups") ?? false)
    }
  }
}
