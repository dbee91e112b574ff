import Testing

@testable import WeightScopeONNX

/// Names in scope compare as Swift strings, whether kept by their bytes or as strings.
@Suite struct NameScopeTests {
  /// Looks `name` up by its UTF-8 bytes, as a node's input is.
  func lookUp(_ scope: inout NameScope, _ name: String) -> Int? {
    Array(name.utf8).withUnsafeBytes { scope.index(ofUTF8: $0) }
  }

  @Test func bindsLooksUpRebindsAndRemovesASCIINames() {
    var scope = NameScope()
    #expect(scope["w"] == nil)
    #expect(scope.updateValue(3, forKey: "w") == nil)
    #expect(scope.updateValue(-1, forKey: "x") == nil)
    #expect(lookUp(&scope, "w") == 3)
    #expect(lookUp(&scope, "x") == -1)
    #expect(lookUp(&scope, "") == nil)
    #expect(scope.updateValue(7, forKey: "w") == 3)
    scope["w"] = nil
    #expect(scope["w"] == nil)
    #expect(lookUp(&scope, "w") == nil)
    #expect(scope.updateValue(8, forKey: "w") == nil)
    #expect(scope["w"] == 8)
  }

  @Test func keepsManyNamesThroughGrowth() {
    var scope = NameScope()
    for i in 0..<5000 { scope.updateValue(i, forKey: "blocks.\(i / 10).p\(i % 10)") }
    #expect((0..<5000).allSatisfy { lookUp(&scope, "blocks.\($0 / 10).p\($0 % 10)") == $0 })
    #expect(lookUp(&scope, "blocks.500.p0") == nil)
  }

  @Test func namesLookedUpInAnyOrderAndNeverBound() {
    // Bound in order, looked up in order (the usual way), backwards, at random, and between
    // names never bound: each way gives the same answers.
    var scope = NameScope()
    let names = (0..<3000).map { "layer\($0 % 7).w\($0)" }
    for (i, name) in names.enumerated() { scope.updateValue(i, forKey: name) }
    #expect(names.indices.allSatisfy { lookUp(&scope, names[$0]) == $0 })
    #expect(names.indices.reversed().allSatisfy { lookUp(&scope, names[$0]) == $0 })
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let i = Int.random(in: names.indices, using: &generator)
      #expect(lookUp(&scope, names[i]) == i)
      #expect(lookUp(&scope, "output\(i)") == nil)
    }
    // A name removed is not found, not even where the next lookup is expected.
    #expect(lookUp(&scope, names[10]) == 10)
    scope[names[11]] = nil
    #expect(lookUp(&scope, names[11]) == nil)
    #expect(lookUp(&scope, names[12]) == 12)
    scope.updateValue(-1, forKey: names[13])
    #expect(lookUp(&scope, names[12]) == 12)
    #expect(lookUp(&scope, names[13]) == -1)
  }

  @Test func nonASCIINamesCompareAsStrings() {
    var scope = NameScope()
    scope.updateValue(1, forKey: "K")
    // U+212A KELVIN SIGN is canonically equivalent to "K".
    #expect(scope["\u{212A}"] == 1)
    #expect(lookUp(&scope, "\u{212A}") == 1)
    // Precomposed and decomposed "é" are one name.
    scope.updateValue(2, forKey: "caf\u{E9}")
    #expect(lookUp(&scope, "cafe\u{301}") == 2)
    #expect(lookUp(&scope, "K") == 1)
    scope["K"] = nil
    #expect(lookUp(&scope, "\u{212A}") == nil)
  }

  @Test func invalidUTF8IsLookedUpAsItsRepairedString() {
    var scope = NameScope()
    scope.updateValue(4, forKey: "a\u{FFFD}")
    let bytes: [UInt8] = [0x61, 0xff]
    #expect(bytes.withUnsafeBytes { scope.index(ofUTF8: $0) } == 4)
  }
}
