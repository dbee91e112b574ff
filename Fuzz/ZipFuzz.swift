// libFuzzer harness: the zip reader, the zip audit, and the PyTorch checkpoint reader on top.
// Built by tools/fuzz.sh into one module with the reader sources.

private let limits: Limits = {
  var limits = Limits()
  limits.inflatedBytes = 1 << 22
  limits.zipEntries = 10_000
  return limits
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FileBytes(copying: UnsafeBufferPointer(start: data, count: size), label: "fuzz")
  if let zip = try? ZipArchive(bytes.reader(), limits: limits) {
    for entry in zip.entries {
      if let contents = try? zip.contents(of: entry, limits: limits) {
        try? zip.verifyCRC(of: entry, data: contents)
      }
    }
  }
  if let audit = try? ZipAudit(bytes.reader(), limits: limits, checkData: true) {
    for entry in audit.entries { _ = try? audit.contents(of: entry, limits: limits) }
  }
  _ = try? PyTorchZipReader.read(bytes, path: "fuzz.pt", limits: limits)
  _ = try? Scanner.scan(bytes, path: "/nonexistent/fuzz.pt", limits: limits)
  return 0
}
