import WeightScopeCore
import WeightScopeModel
import WeightScopeONNX
import WeightScopePickle
import WeightScopeZip

/// The security verdict on one file.
public enum ScanVerdict: String, Sendable, Equatable, Codable, Comparable {
  /// Nothing off the allowlist and no structural trick.
  case clean
  /// Something unusual: an unknown global, a zip inconsistency, an unreadable pickle.
  case suspicious
  /// Loading the file with pickle or `torch.load` without `weights_only` would run code
  /// known to be dangerous.
  case dangerous

  private var rank: Int {
    switch self {
    case .clean: 0
    case .suspicious: 1
    case .dangerous: 2
    }
  }

  public static func < (a: ScanVerdict, b: ScanVerdict) -> Bool { a.rank < b.rank }

  /// The verdict `findings` add up to: any error is dangerous, any warning suspicious.
  public init(_ findings: [Finding]) {
    if findings.contains(where: { $0.severity == .error }) {
      self = .dangerous
    } else if findings.contains(where: { $0.severity == .warning }) {
      self = .suspicious
    } else {
      self = .clean
    }
  }
}

/// What a scan found in one file.
public struct ScanResult: Sendable, Equatable {
  public var path: String
  /// What the file is, in the JSON contract's words (`pytorch-zip`, `pickle`, `onnx`).
  public var kind: String
  public var findings: [Finding]
  public var verdict: ScanVerdict { ScanVerdict(findings) }

  public init(path: String, kind: String, findings: [Finding]) {
    self.path = path
    self.kind = kind
    self.findings = findings
  }
}

/// Scans a file for everything that would run code or hide data from a reader, without running,
/// importing or evaluating anything from it.
///
/// Every pickle in the file is judged: every zip member that holds one (found by content,
/// whatever its name), several pickles in a row, a pickle placed before a zip, bytes after
/// STOP. A zip archive is audited with ``ZipAudit``.
public enum Scanner {
  /// How much of a zip archive a scan reads.
  public enum Depth: Sendable, Equatable {
    /// The directory, and the local headers and data of entries outside `<top>/data/`
    /// (pickles, code, records): what a listing reads anyway. Storages are not touched.
    ///
    /// The caller has read the file with the listing's reader: an ONNX model is not read
    /// again, and the pickle machine does not run again on the first pickle of a checkpoint's
    /// `<top>/data.pkl` unless its opcode walk names something to report.
    case metadata
    /// Every local header and every entry's data, with CRC checks.
    case full
  }

  /// Scans the file at `path`.
  ///
  /// - Throws: ``ReadError`` when the file is in no format WeightScope reads or its structure
  ///   cannot be read at all (a zip without a readable directory, a broken ONNX model).
  public static func scan(path: String, limits: Limits = .default, depth: Depth = .full)
    throws(ReadError) -> ScanResult
  {
    try scan(try FileBytes(path: path), path: path, limits: limits, depth: depth)
  }

  /// What a listing of a zip checkpoint has read already, for a metadata scan to reuse.
  public struct Listed: Sendable {
    /// The archive the listing opened, over the scanned bytes.
    public var archive: ZipArchive
    /// The listing's run of the first pickle in `<top>/data.pkl`.
    public var pickle: PickleScan.FirstRun?

    public init(archive: ZipArchive, pickle: PickleScan.FirstRun?) {
      self.archive = archive
      self.pickle = pickle
    }
  }

  /// Scans already-mapped bytes; `path` names the file and locates ONNX external data.
  ///
  /// - Parameter listed: at ``Depth/metadata``, what the listing read of these bytes: its
  ///   directory is audited without a second parse, and its pickle's globals are judged
  ///   without running the machine or the opcode walk again. Ignored at full depth, or when
  ///   the archive was opened over other bytes.
  public static func scan(
    _ bytes: FileBytes, path: String, limits: Limits = .default, depth: Depth = .full,
    listed: Listed? = nil
  ) throws(ReadError) -> ScanResult {
    let reader = bytes.reader()
    var findings: [Finding] = []
    var kind = "unknown"
    let listed = listed.flatMap { listed in
      let opened = listed.archive.reader
      return depth == .metadata && opened.bytes === bytes && opened.start == reader.start
        && opened.end == reader.end ? listed : nil
    }

    // A zip archive: found by its end record, so also after a prefix.
    let zipResult: Result<ZipAudit, ReadError>
    do throws(ReadError) {
      if let listed {
        zipResult = .success(try ZipAudit(listed.archive, limits: limits, checkData: false))
      } else {
        zipResult = .success(try ZipAudit(reader, limits: limits, checkData: depth == .full))
      }
    } catch {
      zipResult = .failure(error)
    }
    let zipFound = if case .success = zipResult { true } else { false }
    // A pickle at the start: a legacy checkpoint, a bare pickle, or one placed before a zip.
    var pickleEnd = reader.start
    let legacy = reader.matches(legacyMagic, at: reader.start)
    if PickleScan.startsLikePickle(reader) {
      kind = legacy ? "pytorch-legacy" : "pickle"
      let result = PickleScan.scan(
        reader, label: legacy ? "legacy checkpoint" : "pickle at 0x0", limits: limits,
        trailing: legacy || zipFound ? .expected : .suspicious)
      findings += result.findings
      pickleEnd = result.end
    }

    switch zipResult {
    case .success(let zip):
      if kind == "unknown" || kind == "pickle" {
        kind =
          zip.entries.headers.contains { nameHasSuffix(zip, $0, "constants.pkl") }
          ? "torchscript"
          : zip.entries.headers.contains { nameHasSuffix(zip, $0, "data.pkl") } ? "pytorch-zip" : "zip"
      }
      findings += zip.findings
      findings += scanMembers(zip, limits: limits, depth: depth, listedRun: listed?.pickle)
      if pickleEnd > reader.start {
        findings.append(
          Finding(
            .warning, "zip.pickle-before-archive",
            "a pickle fills bytes 0..<\(hex(pickleEnd)) before the zip archive; torch.load "
              + "reads such a file as a legacy checkpoint and unpickles it", offset: reader.start))
      }
      return ScanResult(path: path, kind: kind, findings: findings)
    case .failure(let error):
      if kind != "unknown" {
        return ScanResult(path: path, kind: kind, findings: findings)
      }
      if ZipArchive.looksLikeZip(reader) { throw error }
    }

    if ONNXReader.looksLikeONNX(reader) {
      // At metadata depth the caller has read the model already.
      if depth == .metadata { return ScanResult(path: path, kind: "onnx", findings: []) }
      // ONNX holds no code that loading runs; the reader's own checks (external data paths
      // that leave the model's folder, inconsistent sizes) are the findings.
      let file = try ONNXReader.read(bytes, path: path, limits: limits)
      return ScanResult(path: path, kind: "onnx", findings: file.findings)
    }
    // A protocol 0 or 1 pickle has no PROTO: it is one when its opcodes run to STOP.
    if PickleOpcodeWalk(reader, limits: limits).endOffset != nil {
      let result = PickleScan.scan(reader, label: "pickle at 0x0", limits: limits)
      return ScanResult(path: path, kind: "pickle", findings: result.findings)
    }
    let head = (try? reader.peekBytes(at: 0, count: min(8, reader.count))).map { printable($0) }
    throw ReadError(
      .badMagic, at: 0,
      "not a PyTorch checkpoint, a pickle or an ONNX model (starts with \(head ?? "\"\""))")
  }

  /// A legacy `torch.save` file starts with a pickled magic number.
  static let legacyMagic: [UInt8] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
  ]

  /// The member whose pickle a listing runs: `data.pkl` in the folder of the first entry.
  static func listedPickle(_ zip: ZipAudit) -> String? {
    guard let first = zip.entries.headers.first else { return nil }
    if first.nameIsASCII {
      // ASCII: the first `/` byte is the first `/` character.
      let bytes = first.nameBytes(in: zip.reader)
      guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else { return "data.pkl" }
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<slash]), as: UTF8.self)
        + "/data.pkl"
    }
    let name = zip.name(of: first)
    guard let slash = name.firstIndex(of: "/") else { return "data.pkl" }
    return name[..<slash] + "/data.pkl"
  }

  /// `name.hasSuffix(suffix)` for an entry's name, on its bytes when both are ASCII (and the
  /// suffix does not start with a line feed, which a carriage return before it would join).
  static func nameHasSuffix(_ zip: ZipAudit, _ header: CentralDirectoryHeader, _ suffix: StaticString)
    -> Bool
  {
    let wanted = UnsafeRawBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
    guard header.nameIsASCII, wanted.first != UInt8(ascii: "\n") else {
      return zip.name(of: header).hasSuffix(suffix.description)
    }
    let bytes = header.nameBytes(in: zip.reader)
    guard bytes.count >= wanted.count else { return false }
    return UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - wanted.count)...]).elementsEqual(wanted)
  }

  /// Judges every member that holds a pickle.
  ///
  /// `listedRun` is the listing's run of the listed pickle (``listedPickle(_:)``), if given.
  static func scanMembers(
    _ zip: ZipAudit, limits: Limits, depth: Depth, listedRun: PickleScan.FirstRun? = nil
  ) -> [Finding] {
    var findings: [Finding] = []
    let listed = depth == .metadata ? listedPickle(zip) : nil
    for index in zip.entries.indices {
      // At metadata depth a storage is skipped before its entry is made.
      let isStorage = zip.entries.storage[index]
      if depth == .metadata, isStorage { continue }
      let entry = zip.entries[index]
      let name = zip.name(of: entry.header)
      guard entry.dataRange != nil, !entry.header.isEncrypted else { continue }
      let data: ByteReader
      do throws(ReadError) {
        data = try zip.contents(of: entry, limits: limits)
      } catch {
        if depth == .metadata {
          findings.append(
            Finding(
              .warning, "zip.entry-data", "data of \"\(name)\" is unreadable: \(error)",
              offset: error.offset))
        }
        continue
      }
      let namedPickle = name.hasSuffix(".pkl")
      if namedPickle || (!isStorage && PickleScan.startsLikePickle(data)) {
        let isListed = listed == name
        findings += PickleScan.scan(
          data, label: name, limits: limits, firstRuns: isListed,
          firstRun: isListed ? listedRun : nil
        ).findings
      } else if let first = try? data.peekUInt8(at: data.start), first == 0x80 || first == 0x28
        || first == 0x63
      {
        // Any other member (a storage too) that runs as a whole pickle is judged as one.
        do throws(ReadError) {
          let document = try PickleMachine.run(data, limits: limits)
          let walk = PickleOpcodeWalk(data, limits: limits)
          let judged = PickleScan.judge(document.globals, walk: walk, label: name)
          if !judged.isEmpty {
            findings.append(
              Finding(
                .warning, "pickle.hidden-member",
                "\"\(name)\" holds a pickle that names globals, though it is not a pickle torch "
                  + "loads by name", offset: entry.header.headerOffset))
            findings += judged
          }
        } catch {
          // Not a pickle: tensor data that happens to start like one.
        }
      }
    }
    return findings
  }
}
