import Foundation
import Testing
import WeightScope
import WeightScopeCore
import WeightScopeModel
import WeightScopePickle
import WeightScopePyTorch
@testable import WeightScopeScan
@testable import WeightScopeZip

/// The shortcuts a listing's scan takes give the same findings as the full work.
struct MetadataScanTests {
  /// Every pickle of the malformed corpus: bare pickle files and the `.pkl` members of archives.
  static func corpusPickles() throws -> [(label: String, data: ByteReader)] {
    var pickles: [(label: String, data: ByteReader)] = []
    let names = try FileManager.default.contentsOfDirectory(atPath: malformed("")).sorted()
    for name in names {
      let bytes = try FileBytes(path: malformed(name))
      if name.hasSuffix(".pkl") {
        pickles.append((name, bytes.reader()))
        continue
      }
      guard let zip = try? ZipAudit(bytes.reader(), checkData: false) else { continue }
      for entry in zip.entries where zip.name(of: entry.header).hasSuffix(".pkl") {
        guard let data = try? zip.contents(of: entry) else { continue }
        pickles.append(("\(name): \(zip.name(of: entry.header))", data))
      }
    }
    return pickles
  }

  @Test func pickleAlreadyRunGivesTheFullScansFindings() throws {
    let pickles = try Self.corpusPickles()
    #expect(pickles.count >= 20)
    var walkedOnly = 0
    for (label, data) in pickles {
      // The shortcut is for a pickle whose first run through the machine succeeded.
      guard (try? PickleMachine.run(data, limits: .default)) != nil else { continue }
      let full = PickleScan.scan(data, label: label, limits: .default)
      let shortcut = PickleScan.scan(data, label: label, limits: .default, firstRuns: true)
      #expect(shortcut.findings == full.findings, "\(label)")
      #expect(shortcut.end == full.end, "\(label)")
      if PickleScan.cleanEnd(PickleOpcodeWalk(data, limits: .default)) != nil { walkedOnly += 1 }
    }
    // Both kinds occur: clean pickles that skip the machine, and ones that run it again.
    #expect(walkedOnly > 0)
    #expect(walkedOnly < pickles.count)
  }

  @Test func aListingsRunGivesTheFullScansFindings() throws {
    for (label, data) in try Self.corpusPickles() {
      guard let document = try? PickleMachine.run(data, limits: .default) else { continue }
      let full = PickleScan.scan(data, label: label, limits: .default)
      let run = PickleScan.FirstRun(globals: document.globals, end: document.endOffset)
      let reused = PickleScan.scan(data, label: label, limits: .default, firstRun: run)
      #expect(reused.findings == full.findings, "\(label)")
      #expect(reused.end == full.end, "\(label)")
    }
  }

  /// Every file a listing reads: the metadata scan that reuses its archive and pickle run
  /// finds what the one that reads the file again finds.
  @Test func reusingTheListingsReadsChangesNoFinding() throws {
    let models = try FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/TestModels")
      .filter { !$0.hasSuffix(".json") }.map { "\(repositoryRoot)/TestModels/\($0)" }
    let corpus = try FileManager.default.contentsOfDirectory(atPath: malformed("")).map(malformed)
    var reused = 0
    for path in (models + corpus).sorted() {
      guard let bytes = try? FileBytes(path: path) else { continue }
      var reads: PyTorchZipReader.Reads?
      guard (try? WeightFileReader.read(bytes, path: path, zipReads: &reads)) != nil, let reads
      else { continue }
      let listed = Scanner.Listed(
        archive: reads.archive,
        pickle: PickleScan.FirstRun(globals: reads.pickleGlobals, end: reads.pickleEnd))
      let again = try Scanner.scan(bytes, path: path, depth: .metadata)
      let shared = try Scanner.scan(bytes, path: path, depth: .metadata, listed: listed)
      #expect(shared == again, "\(path)")
      reused += 1
    }
    #expect(reused >= 20)
  }

  @Test func anAuditOfAnOpenedArchiveFindsWhatAReadersDoes() throws {
    let corpus = try FileManager.default.contentsOfDirectory(atPath: malformed("")).sorted()
    for name in corpus {
      let bytes = try FileBytes(path: malformed(name))
      guard let archive = try? ZipArchive(bytes.reader()) else { continue }
      for checkData in [false, true] {
        let opened = try ZipAudit(archive, checkData: checkData)
        let read = try ZipAudit(bytes.reader(), checkData: checkData)
        #expect(opened.findings == read.findings, "\(name)")
        #expect(opened.entries.map(\.dataRange) == read.entries.map(\.dataRange), "\(name)")
      }
    }
  }

  @Test func walkNeverCallsAPickleWithFindingsClean() throws {
    for (label, data) in try Self.corpusPickles() {
      let walk = PickleOpcodeWalk(data, limits: .default)
      guard PickleScan.cleanEnd(walk) != nil,
        let document = try? PickleMachine.run(data, limits: .default)
      else { continue }
      #expect(PickleScan.judge(document.globals, walk: walk, label: label).isEmpty, "\(label)")
      #expect(walk.endOffset == document.endOffset, "\(label)")
    }
  }

  @Test func opcodeWalkFlagsGlobalsItCannotFollow() throws {
    // PROTO 2, EXT1 1, STOP.
    let ext = FileBytes(copying: [0x80, 0x02, 0x82, 0x01, 0x2e])
    let walk = PickleOpcodeWalk(ext.reader(), limits: .default)
    #expect(walk.opaque)
    #expect(walk.endOffset == 5)
    #expect(PickleScan.cleanEnd(walk) == nil)
  }

  @Test func metadataScanOfACleanCheckpointHasNoPickleFindings() throws {
    let result = try Scanner.scan(path: malformed("clean.pt"), depth: .metadata)
    #expect(result.verdict == .clean)
    #expect(result.kind == "pytorch-zip")
  }

  /// The split-based definition of a storage record's name.
  static func referenceIsStorage(_ name: String) -> Bool {
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    return (parts.count == 3 && parts[1] == "data") || (parts.count == 2 && parts[0] == "data")
  }

  @Test(arguments: [
    "archive/data/0", "data/0", "archive/data.pkl", "archive/data/", "/data/1", "data/",
    "archive/dat/0", "archive/datas/0", "a/b/data/0", "archive/data", "data", "", "/", "//",
    "archive/Data/0", "archive/data/0/1", "archive/data/\u{301}x", "archive/data/k/\u{301}",
    "archive/dat\u{e1}/0", "archive/data\u{301}/0", "\u{e9}/data/0", "data/\u{0600}x",
  ])
  func storageNamesByBytesMatchTheStringDefinition(name: String) {
    #expect(ZipAudit.isStorage(name) == Self.referenceIsStorage(name))
    var directory = Self.directoryReader(name: name)
    let header = try? CentralDirectoryHeader(parsing: &directory)
    #expect(header?.name(in: directory) == name)
    if let header {
      #expect(ZipAudit.isStorage(header, in: directory) == Self.referenceIsStorage(name))
    }
  }
}

extension MetadataScanTests {
  /// A reader over one central-directory header for an entry called `name`.
  static func directoryReader(name: String) -> ByteReader {
    let nameBytes = Array(name.utf8)
    var record: [UInt8] = [0x50, 0x4b, 0x01, 0x02]
    record += [20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // versions, flags, method, time, date
    record += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // crc, sizes
    record += [UInt8(nameBytes.count & 0xff), UInt8(nameBytes.count >> 8), 0, 0, 0, 0]
    record += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // disk, attributes, local header offset
    return FileBytes(copying: record + nameBytes).reader()
  }
}
