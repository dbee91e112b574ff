import WeightScopeCore
import WeightScopeModel
import WeightScopePickle
import WeightScopeZip

/// Reads a `torch.save` zip checkpoint (PyTorch 1.6 and later) or a `torch.jit.save` archive.
///
/// Only the central directory, `data.pkl` and a few small records are read; storage records
/// are sized from the directory and never touched.
public enum PyTorchZipReader {
  /// What reading a checkpoint parsed on the way, for a scan of the same bytes to reuse.
  public struct Reads: Sendable {
    /// The opened archive.
    public var archive: ZipArchive
    /// ``PickleDocument/globals`` of the first pickle in `data.pkl`.
    public var pickleGlobals: [PickleGlobalUse]
    /// ``PickleDocument/endOffset`` of that pickle.
    public var pickleEnd: Int
  }

  /// Reads the checkpoint's tensors, facts and findings.
  ///
  /// - Throws: ``ReadError`` for a broken archive, a missing or corrupt `data.pkl`, or a
  ///   pickle that does not describe tensors consistently with its storage records.
  public static func read(_ bytes: FileBytes, path: String, limits: Limits) throws(ReadError)
    -> WeightFile
  {
    try readKeepingReads(bytes, path: path, limits: limits).file
  }

  /// ``read(_:path:limits:)``, also returning the archive and what running `data.pkl` recorded.
  public static func readKeepingReads(_ bytes: FileBytes, path: String, limits: Limits)
    throws(ReadError) -> (file: WeightFile, reads: Reads)
  {
    // `torch.save` writes the pickle first: its heap is reserved before the directory is
    // parsed, so that the other core makes it ready meanwhile rather than while the pickle is
    // read on both. Its header is not checked yet, so a size past the file's end reserves
    // nothing.
    let early = ZipArchive.firstEntry(bytes.reader()).flatMap { first in
      (first.name.hasSuffix("/data.pkl") || first.name == "data.pkl")
        && first.entry.compressedSize <= bytes.count - min(bytes.count, first.entry.localHeaderOffset)
        ? first.entry : nil
    }
    if let early { reservePickleHeap(early) }
    let zip = try ZipArchive(bytes.reader(), limits: limits)
    guard let pickleEntry = zip.entry(relative: "data.pkl") else {
      throw ReadError(
        .unsupported, at: zip.directoryOffset,
        "a zip archive without \(zip.topFolder.isEmpty ? "" : zip.topFolder + "/")data.pkl: not a PyTorch checkpoint",
        context: "zip archive")
    }
    if early?.headerOffset != pickleEntry.headerOffset { reservePickleHeap(pickleEntry) }
    // The local header and the pickle, in one read on a cold cache (the header's name and
    // extra field are short; a few KiB more covers them).
    let (dataEnd, overflow) = pickleEntry.localHeaderOffset.addingReportingOverflow(
      pickleEntry.compressedSize + 4096)
    bytes.willNeed(pickleEntry.localHeaderOffset..<(overflow ? Int.max : dataEnd))
    let pickle = try zip.contents(of: pickleEntry, limits: limits)
    try zip.verifyCRC(of: pickleEntry, data: pickle)

    let isTorchScript =
      zip.entry(relative: "constants.pkl") != nil
      || zip.containsEntry(withPrefix: zip.topFolder + "/code/")
    let dataFolder = zip.folder(zip.topFolder.isEmpty ? "data/" : zip.topFolder + "/data/")
    var contents = try CheckpointPickle.read(
      pickle,
      storages: { key in
        guard let record = dataFolder.entry(named: key) else { return nil }
        return StorageRecord(key: key, byteCount: record.uncompressedSize)
      }, limits: limits)

    var scriptFindings: [Finding] = []
    if isTorchScript {
      scriptFindings = TorchScriptModules.complete(&contents, zip: zip, limits: limits)
    }

    var facts = [
      FileFact(
        "archive",
        "\(zip.entries.count) entries in folder \"\(zip.topFolder)\"\(zip.isZip64 ? ", zip64" : "")"
      )
    ]
    for (name, key) in [
      ("version", "format version"), (".data/version", "format version"),
      ("byteorder", "byte order"),
    ] {
      guard let entry = zip.entry(relative: name), entry.uncompressedSize <= 64,
        !facts.contains(where: { $0.key == key }),
        let value = try? smallText(zip, entry, limits)
      else { continue }
      facts.append(FileFact(key, value))
    }
    var file = WeightFile(path: path, format: isTorchScript ? .torchscript : .pytorchZip)
    file.tensors = contents.tensors
    file.facts = facts + contents.facts
    file.findings = contents.findings + scriptFindings
    file.modules = contents.modules
    return (
      file,
      Reads(archive: zip, pickleGlobals: contents.pickleGlobals, pickleEnd: contents.pickleEnd)
    )
  }

  /// Reserves the heap that naming a state dict's tensors in one pass takes: about six bytes
  /// per pickle byte; the machine's document, when that pass cannot be used, as much again
  /// (``CheckpointPickle`` reserves it then). The entry's size lies inside the file.
  private static func reservePickleHeap(_ entry: CentralDirectoryHeader) {
    let (heap, tooMuch) = entry.compressedSize.multipliedReportingOverflow(
      by: CheckpointPickle.onePassHeapPerByte)
    HeapReserve.expect(bytes: tooMuch ? .max : heap)
  }

  /// The trimmed text of a small entry (`version`, `byteorder`).
  private static func smallText(
    _ zip: ZipArchive, _ entry: CentralDirectoryHeader, _ limits: Limits
  ) throws(ReadError) -> String {
    var data = try zip.contents(of: entry, limits: limits)
    let text = try data.readString(data.remaining)
    return String(text.filter { !$0.isWhitespace })
  }
}
