// libFuzzer harness: the pickle machine, the checkpoint walk over its result, and the scan.
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
  return 0
}
