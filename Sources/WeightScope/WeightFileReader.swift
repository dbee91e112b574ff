import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel
import WeightScopeONNX
import WeightScopePyTorch
import WeightScopeZip

/// Opens a weight file of any supported format, recognized by its content, not its extension.
public enum WeightFileReader {
  /// The formats, as content sniffing sees them.
  public enum Detected: Sendable, Equatable {
    case zip
    case legacyPickle
    case onnx
    case unknown
  }

  /// A legacy torch.save file starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes,
  /// 0x1950a86a20f9469cfc6c little-endian.
  static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

  /// What the first bytes say the file is.
  public static func detect(_ reader: ByteReader) -> Detected {
    if ZipArchive.looksLikeZip(reader) { return .zip }
    if reader.matches(legacyMagic, at: reader.start) { return .legacyPickle }
    if ONNXReader.looksLikeONNX(reader) { return .onnx }
    return .unknown
  }

  /// Reads the metadata of the file at `path`: tensors, facts and findings, never weights.
  ///
  /// - Throws: a ``ReadError`` whose context names what was being read.
  public static func read(path: String, limits: Limits = .default) throws(ReadError) -> WeightFile {
    let bytes = try FileBytes(path: path)
    return try read(bytes, path: path, limits: limits)
  }

  /// Reads already-mapped bytes; `path` names the file in reports and locates ONNX external data.
  public static func read(_ bytes: FileBytes, path: String, limits: Limits = .default) throws(ReadError) -> WeightFile {
    var zipReads: PyTorchZipReader.Reads?
    return try read(bytes, path: path, limits: limits, zipReads: &zipReads)
  }

  /// ``read(_:path:limits:)``, keeping in `zipReads` what reading a zip checkpoint parsed (its
  /// archive, its pickle's globals) for a scan of the same bytes.
  public static func read(
    _ bytes: FileBytes, path: String, limits: Limits = .default,
    zipReads: inout PyTorchZipReader.Reads?
  ) throws(ReadError) -> WeightFile {
    let reader = bytes.reader()
    switch detect(reader) {
    case .zip:
      let (file, reads) = try PyTorchZipReader.readKeepingReads(bytes, path: path, limits: limits)
      zipReads = reads
      return file
    case .legacyPickle:
      return try LegacyCheckpointReader.read(bytes, path: path, limits: limits)
    case .onnx:
      return try ONNXReader.read(bytes, path: path, limits: limits)
    case .unknown:
      let head = (try? reader.peekBytes(at: 0, count: min(8, reader.count))).map { printable($0) } ?? "\"\""
      throw ReadError(.badMagic, at: 0, "not a PyTorch checkpoint or an ONNX model (starts with \(head))")
    }
  }

  /// Reads the file and analyzes it: layers, kinds, formulas and counts.
  public static func inspect(path: String, limits: Limits = .default) throws(ReadError) -> Analysis {
    analyze(try read(path: path, limits: limits))
  }
}
