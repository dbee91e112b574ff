import WeightScopeCore

/// The first tensor seen on each storage record, to mark later ones as sharing it (tied weights).
///
/// `torch.save` names storages `0`, `1`, `2`, ...: such keys index an array, which a hundred
/// thousand tensors fill without hashing a name each; any other key goes to a dictionary.
struct StorageOwners {
  private var byNumber: [Int32] = []
  private var byKey: [String: Int] = [:]
  /// Numbers up to this index the array; it grows with the tensors seen, so a hostile key
  /// cannot make it large.
  private var numberLimit = 1024

  /// The index of the first tensor recorded on `key`, recording `tensor` when there is none.
  mutating func first(on key: String, tensor: Int) -> Int? {
    numberLimit = max(numberLimit, 4 * tensor)
    if let number = Self.number(key), number < numberLimit, tensor < Int(Int32.max) {
      if number == byNumber.count {
        byNumber.append(-1)  // The next storage, as torch.save numbers them.
      } else if number > byNumber.count {
        byNumber.append(contentsOf: repeatElement(-1, count: number + 1 - byNumber.count))
      }
      let stored = Int(byNumber[number])
      if stored >= 0 { return stored }
      byNumber[number] = Int32(tensor)
      return nil
    }
    if let stored = byKey[key] { return stored }
    byKey[key] = tensor
    return nil
  }

  /// The value of a canonical decimal key (`0`, `17`; not `017` or `+1`) of up to 9 digits.
  private static func number(_ key: String) -> Int? {
    var key = key
    return key.withUTF8 { canonicalDecimal(UnsafeRawBufferPointer($0)) }
  }
}
