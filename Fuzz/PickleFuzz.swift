// libFuzzer harness: the pickle machine, the checkpoint walk over its result, the scan, and a
// state dict read in two parts against one pass.
// Built by tools/fuzz.sh into one module with the reader sources.

private let limits: Limits = {
  var limits = Limits()
  limits.pickleOpcodes = 200_000
  limits.pickleStringBytes = 1 << 20
  return limits
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FileBytes(copying: UnsafeBufferPointer(start: data, count: size), label: "fuzz")
  _ = try? PickleMachine.run(bytes.reader(), limits: limits)
  _ = try? CheckpointPickle.read(
    bytes.reader(), storages: { key in StorageRecord(key: key, byteCount: 1 << 20) },
    limits: limits)
  _ = PickleScan.scan(bytes.reader(), label: "fuzz", limits: limits)
  // A state dict read in two parts at once (at any size here) reads what one pass reads.
  let whole = UnsafeRawBufferPointer(rebasing: bytes.buffer[0..<size])
  let parts = StateDictPickle.readInParts(whole, base: 0, limits: limits, worthwhile: 0)
  let onePass = StateDictPickle.readInParts(whole, base: 0, limits: limits, worthwhile: .max)
  precondition(parts.walked == onePass.walked, "two parts and one pass disagree")
  return 0
}
