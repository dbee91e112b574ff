import Testing
import WeightScopeSpec

/// Source outside the subset, or wrong for the layers, fails with the place it was written.
@Suite struct PythonErrorTests {
  @Test func anUnterminatedCallPointsAtTheBracketNeverClosed() {
    let error = pythonError(
      """
      model = nn.Sequential(
          nn.Conv2d(3, 16, 3),
          nn.ReLU(
      )
      """, file: "seed.py")
    #expect(error?.kind == .syntax)
    #expect(error?.description == "seed.py:1:22: `(` was never closed")
    let inner = pythonError("import torch.nn as nn\nx = nn.Sequential(nn.Linear(3, 4)\n")
    #expect(inner.map { [$0.line, $0.column] } == [2, 18])
  }

  @Test func anUnknownLayerIsNamedWithASuggestion() {
    let error = pythonError(
      """
      import torch.nn as nn
      model = nn.Sequential(
          nn.Conv2D(3, 16, 3),
      )
      """)
    #expect(error?.kind == .unknownLayer)
    #expect(error?.description == "model.py:3:5: unknown layer `nn.Conv2D`; did you mean `Conv2d`?")
    let other = pythonError("model = nn.Sequential(nn.ReLU(), nn.Frobnicate())")
    #expect(other?.kind == .unknownLayer)
    #expect(other.map { [$0.line, $0.column] } == [1, 34])
  }

  @Test func anUnknownKeywordPointsAtTheKeyword() {
    let error = pythonError(
      """
      import torch.nn as nn

      model = nn.Sequential(
          nn.Conv2d(3, 16, kernel_size=3, padd=1),
          nn.ReLU(),
      )
      """)
    #expect(error?.kind == .argument)
    #expect(error.map { [$0.line, $0.column] } == [4, 37])
    #expect(
      error?.message.hasPrefix("Conv2d has no argument `padd`; expected one of in_channels") == true
    )
  }

  @Test func aClassStatementIsRefused() {
    let error = pythonError(
      """
      import torch.nn as nn

      class Net(nn.Module):
          def __init__(self):
              super().__init__()
      """)
    #expect(error?.kind == .syntax)
    #expect(error.map { [$0.line, $0.column] } == [3, 1])
    #expect(error?.message.hasPrefix("class definitions are not supported") == true)
  }

  @Test func aLambdaIsRefused() {
    let error = pythonError("model = nn.Sequential(nn.Flatten(), lambda x: x * 2)\n")
    #expect(error?.kind == .syntax)
    #expect(error.map { [$0.line, $0.column] } == [1, 37])
    #expect(error?.message.hasPrefix("lambdas are not supported") == true)
  }

  @Test func otherStatementsAndCallsAreRefused() {
    let loop = pythonError("layers = []\nfor i in range(3):\n    layers.append(nn.ReLU())\n")
    #expect(loop.map { [$0.line, $0.column] } == [2, 1])
    let call = pythonError("model = nn.Sequential(nn.Linear(3, 4))\nprint(model)\n")
    #expect(call?.kind == .unknownLayer)
    #expect(call.map { [$0.line, $0.column] } == [2, 1])
    let numpy = pythonError("model = nn.Sequential(nn.Linear(np.prod((3, 4)), 4))")
    #expect(
      numpy?.description.hasPrefix("model.py:1:33: `np.prod(...)` is not a torch.nn layer") == true)
    let comprehension = pythonError("model = nn.Sequential(*[nn.ReLU() for _ in range(3)])")
    #expect(comprehension.map { [$0.line, $0.column] } == [1, 23])
    let attribute = pythonError("self.model = nn.Sequential(nn.ReLU())")
    #expect(attribute?.message == "only assignments to a plain name are supported")
    #expect(pythonError("x = 1\n")?.message.hasPrefix("no nn.Sequential(...) found") == true)
  }

  @Test func argumentsMustFitTheConstructor() {
    let missing = pythonError("m = nn.Sequential(\n  nn.Linear(4),\n)")
    #expect(missing?.kind == .argument)
    #expect(
      missing?.description == "model.py:2:3: Linear is missing required argument `out_features`")
    let extra = pythonError("m = nn.Sequential(nn.ReLU(True, 3))")
    #expect(
      extra?.description
        == "model.py:1:33: ReLU takes at most 1 positional argument but 2 were given")
    let twice = pythonError("m = nn.Sequential(nn.Linear(4, 5, bias=True, in_features=4))")
    #expect(twice?.message == "Linear got multiple values for argument `in_features`")
    let order = pythonError("m = nn.Sequential(nn.Linear(in_features=4, 5))")
    #expect(order?.message == "positional argument follows keyword argument")
    let keywordOnly = pythonError(
      "m = nn.Sequential(nn.BatchNorm2d(8, 1e-5, 0.1, True, True, None, None, False))")
    #expect(keywordOnly?.kind == .argument)
  }

  @Test func valuesAreCheckedNotTrapped() {
    #expect(pythonError("m = nn.Sequential(nn.Linear(4 // 0, 2))")?.message == "division by zero")
    #expect(
      pythonError("m = nn.Sequential(nn.Linear(2 ** 70, 2))")?.message == "integer overflow in `**`"
    )
    #expect(pythonError("m = nn.Sequential(nn.Linear(99999999999999999999, 2))")?.kind == .value)
    #expect(
      pythonError("m = nn.Sequential(nn.Linear(width, 2))")?.message
        == "name `width` is not defined")
    #expect(
      pythonError("m = nn.Sequential(nn.Linear('a' * 2, 2))")?.message == "`*` needs two numbers")
    let deep =
      "m = nn.Sequential(nn.Linear(" + String(repeating: "(", count: 500) + "1"
      + String(repeating: ")", count: 500) + ", 2))"
    #expect(pythonError(deep)?.kind == .limitExceeded)
    let minus = "m = nn.Sequential(nn.Linear(" + String(repeating: "-", count: 1_000) + "1, 2))"
    #expect(pythonError(minus)?.kind == .limitExceeded)
  }

  @Test func tokenizerErrorsComeInSourceOrder() {
    #expect(
      pythonError("m = nn.Sequential(nn.Linear(3, 4))\nx = 'abc\n")?.description
        == "model.py:2:5: unterminated string")
    #expect(pythonError("m = nn.Sequential(nn.Linear(3, 4)]")?.line == 1)
    #expect(
      pythonError("m = nn.Sequential(nn.ReLU())\n  y = 2\n")?.description.hasPrefix(
        "model.py:2:3: unexpected indent") == true)
    #expect(
      pythonError("m = nn.Sequential(nn.Linear(3, $))")?.description
        == "model.py:1:32: unexpected character `$`")
  }
}
