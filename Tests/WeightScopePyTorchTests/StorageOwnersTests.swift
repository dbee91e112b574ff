import Testing

@testable import WeightScopePyTorch

@Suite struct StorageOwnersTests {
  @Test func theFirstTensorOnEachKeyOwnsIt() {
    var owners = StorageOwners()
    #expect(owners.first(on: "0", tensor: 0) == nil)
    #expect(owners.first(on: "1", tensor: 1) == nil)
    #expect(owners.first(on: "0", tensor: 2) == 0)
    // Not canonical decimals: other keys than "1" and "0".
    #expect(owners.first(on: "01", tensor: 3) == nil)
    #expect(owners.first(on: "+1", tensor: 4) == nil)
    #expect(owners.first(on: "01", tensor: 5) == 3)
    #expect(owners.first(on: "1", tensor: 6) == 1)
    // Names and numbers too large for the array go to the dictionary.
    #expect(owners.first(on: "weights", tensor: 7) == nil)
    #expect(owners.first(on: "999999999", tensor: 8) == nil)
    #expect(owners.first(on: "weights", tensor: 9) == 7)
    #expect(owners.first(on: "999999999", tensor: 10) == 8)
  }
}
