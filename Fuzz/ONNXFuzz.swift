// libFuzzer harness: the protobuf wire reader and the ONNX model reader.
// Built by tools/fuzz.sh into one module with the reader sources. The path names a folder that
// does not exist, so external data is never read.

private let limits: Limits = {
  var limits = Limits()
  limits.protobufMessages = 200_000
  return limits
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FileBytes(copying: UnsafeBufferPointer(start: data, count: size), label: "fuzz")
  _ = ONNXReader.looksLikeONNX(bytes.reader())
  _ = try? ONNXReader.read(bytes, path: "/nonexistent/fuzz.onnx", limits: limits)
  return 0
}
