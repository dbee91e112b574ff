import WeightScopeCore
import WeightScopeModel
import WeightScopePickle

/// Reads a legacy `torch.save` file (before PyTorch 1.6, or `_use_new_zipfile_serialization=False`).
///
/// The layout is five pickles and then the storages: the magic number
/// `0x1950a86a20f9469cfc6c`, the protocol version (1001), `sys_info` (byte order, type sizes),
/// the saved object (tensors refer to storages by `('storage', type, key, location, numel,
/// view_metadata)` persistent ids), and the list of storage keys. Each storage follows as a
/// little-endian int64 element count and that many elements. Only the 8-byte counts are read;
/// the data is jumped over, so listing costs the same whatever the storages hold.
public enum LegacyCheckpointReader {
  /// The magic number the first pickle holds.
  static let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
  /// The only protocol version torch has written in this format.
  static let protocolVersion: Int64 = 1001

  /// Reads the file's tensors, facts and findings.
  ///
  /// - Throws: ``ReadError`` for a wrong magic number or protocol version, a pickle that cannot
  ///   be run, a storage key that is not in the key list, or a storage whose size overruns the
  ///   file.
  public static func read(_ bytes: FileBytes, path: String, limits: Limits) throws(ReadError)
    -> WeightFile
  {
    var reader = bytes.reader()
    let magicDocument = try pickle(&reader, "magic number", limits)
    guard case .bigInt(let number) = magicDocument.root, number == magic else {
      throw ReadError(
        .badMagic, at: reader.start, "the first pickle is not the legacy torch.save magic number",
        context: "magic number")
    }
    let versionStart = reader.position
    let versionDocument = try pickle(&reader, "protocol version", limits)
    guard case .int(let version) = versionDocument.root, version == protocolVersion else {
      throw ReadError(
        .unsupported, at: versionStart,
        "protocol version \(versionDocument.describe(versionDocument.root)) is not \(protocolVersion)",
        context: "protocol version")
    }
    let sysInfoStart = reader.position
    let sysInfo = try pickle(&reader, "sys_info", limits)
    if systemFacts(sysInfo).contains(FileFact("byte order", "big")) {
      throw ReadError(
        .unsupported, at: sysInfoStart, "a big-endian legacy file is not read",
        context: "sys_info")
    }
    let objectStart = reader.position
    let object = try pickle(&reader, "object pickle", limits)
    let keysStart = reader.position
    let keyDocument = try pickle(&reader, "storage key list", limits)
    let keys = try storageKeys(keyDocument, at: keysStart)

    let used = try persistentStorages(object)
    // Both lists must agree before any size is read: a storage's element size comes from the
    // object pickle, and one wrong size would misplace every later header.
    let listed = Set(keys)
    for key in used.keys.sorted() where !listed.contains(key) {
      throw ReadError(
        .malformed, at: objectStart, "storage key '\(key)' is not in the storage key list",
        context: "object pickle")
    }
    for key in keys where used[key] == nil {
      throw ReadError(
        .malformed, at: keysStart,
        "storage '\(key)' is used by no tensor, so its element size is unknown",
        context: "storage key list")
    }
    var records: [String: StorageRecord] = [:]
    var total = 0
    for key in keys {
      let headerOffset = reader.position
      let numel = try reader.readInt64("element count of storage \(key)")
      guard numel >= 0 else {
        throw ReadError(
          .malformed, at: headerOffset, "storage \(key) has a negative element count \(numel)",
          context: "storages")
      }
      let elementSize = used[key] ?? 1
      let byteCount = try Int(numel).multiplying(
        elementSize, at: headerOffset, "byte size of storage \(key)")
      guard byteCount <= reader.remaining else {
        throw ReadError(
          .truncated, at: headerOffset,
          "storage \(key) holds \(numel) elements of \(elementSize) bytes (\(byteCount) bytes), "
            + "only \(reader.remaining) bytes follow", context: "storages")
      }
      records[key] = StorageRecord(key: key, byteCount: byteCount, fileOffset: reader.position)
      try reader.skip(byteCount, "storage \(key)")
      total = try total.adding(byteCount, at: headerOffset, "storage bytes")
    }
    var contents: CheckpointContents
    do {
      contents = try CheckpointPickle.read(
        document: object, storages: { records[$0] }, limits: limits)
    } catch {
      throw error.within("object pickle")
    }
    var file = WeightFile(path: path, format: .pytorchLegacy)
    file.tensors = contents.tensors
    file.facts = [FileFact("format version", String(version))]
    file.facts += systemFacts(sysInfo)
    file.facts.append(FileFact("storages", "\(keys.count), \(total) bytes"))
    file.facts += contents.facts
    file.findings = contents.findings
    file.modules = contents.modules
    if !reader.isAtEnd {
      file.findings.append(
        Finding(
          .warning, "legacy.trailing-bytes",
          "\(reader.remaining) bytes follow the last storage", offset: reader.position))
    }
    return file
  }

  /// Runs one pickle at the reader's position and moves the reader past its STOP.
  private static func pickle(_ reader: inout ByteReader, _ what: String, _ limits: Limits)
    throws(ReadError) -> PickleDocument
  {
    let document: PickleDocument
    do {
      document = try PickleMachine.run(reader, limits: limits)
    } catch {
      throw error.within(what)
    }
    try reader.seek(to: document.endOffset)
    return document
  }

  /// The storage keys, in the order their data follows: a list of strings.
  private static func storageKeys(_ document: PickleDocument, at offset: Int) throws(ReadError)
    -> [String]
  {
    guard case .list(let items)? = document.node(document.root) else {
      throw ReadError(
        .malformed, at: offset, "is \(document.describe(document.root, budget: 4)), not a list",
        context: "storage key list")
    }
    var keys: [String] = []
    var seen: Set<String> = []
    for item in items {
      guard case .string(let key) = item else {
        throw ReadError(
          .malformed, at: offset, "holds \(document.describe(item)), not a key string",
          context: "storage key list")
      }
      guard seen.insert(key).inserted else {
        throw ReadError(
          .malformed, at: offset, "names storage '\(key)' twice", context: "storage key list")
      }
      keys.append(key)
    }
    return keys
  }

  /// The element size of every storage the object pickle refers to, by key.
  ///
  /// An untyped storage counts bytes, so its element size is 1.
  private static func persistentStorages(_ document: PickleDocument) throws(ReadError)
    -> [String: Int]
  {
    var sizes: [String: Int] = [:]
    for (index, node) in document.nodes.enumerated() {
      guard case .persistentID(let pid) = node, let fields = document.sequence(pid),
        fields.count >= 3, fields[0] == .string("storage")
      else { continue }
      let offset = document.nodeOffsets.indices.contains(index) ? document.nodeOffsets[index] : nil
      let key: String
      switch fields[2] {
      case .string(let text): key = text
      case .int(let number): key = String(number)
      default: continue
      }
      guard let type = fields[1].globalValue, let dtype = TorchStorageType.dtype(ofStorage: type)
      else {
        throw ReadError(
          .malformed, at: offset, "storage '\(key)' has unknown type \(document.describe(fields[1]))",
          context: "object pickle")
      }
      let size = dtype.flatMap { $0.bitWidth }.map { max(1, $0 / 8) } ?? 1
      if let earlier = sizes[key], earlier != size {
        throw ReadError(
          .malformed, at: offset, "storage '\(key)' is used with two element sizes",
          context: "object pickle")
      }
      sizes[key] = size
    }
    return sizes
  }

  /// `byte order` and `type sizes` from the `sys_info` dict.
  private static func systemFacts(_ document: PickleDocument) -> [FileFact] {
    guard case .dict(let entries)? = document.node(document.root) else { return [] }
    var facts: [FileFact] = []
    for entry in entries {
      switch (entry.key, entry.value) {
      case (.string("little_endian"), .bool(let little)):
        facts.append(FileFact("byte order", little ? "little" : "big"))
      case (.string("type_sizes"), let sizes):
        if case .dict(let pairs)? = document.node(sizes) {
          let text = pairs.map {
            "\($0.key.stringValue ?? "?")=\($0.value.intValue.map { String($0) } ?? "?")"
          }
          facts.append(FileFact("type sizes", text.joined(separator: " ")))
        }
      default: break
      }
    }
    return facts
  }
}
