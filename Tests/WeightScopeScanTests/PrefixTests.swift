import Foundation
import Testing
import WeightScope
import WeightScopeCore
import WeightScopeScan

/// Every truncation of a real file is a clean error, never a crash, a hang or an offset
/// outside the bytes that are there.
///
/// Files up to 4 KiB (exotic_dtypes.pt, frozen_backbone.pt, constant_weights.onnx,
/// prelu_bilinear.pt): every prefix. Larger files under 1 MiB: 250 prefixes spread evenly (40
/// from 64 KiB on, where each prefix costs a 64 KiB search for the zip end record), plus
/// every prefix within 48 bytes of the end (where the zip end record and the last protobuf
/// fields are). Files of 1 MiB and more, and the prefixes in between, are left to the fuzzers.
@Suite struct PrefixTests {
  static let files: [String] = {
    let folder = "\(repositoryRoot)/TestModels"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.filter { name in
      guard name.hasSuffix(".pt") || name.hasSuffix(".onnx") || name.hasSuffix(".ckpt"),
        let size = (try? FileManager.default.attributesOfItem(atPath: "\(folder)/\(name)"))?[.size]
          as? Int
      else { return false }
      return size < 1 << 20
    }.sorted()
  }()

  static func prefixLengths(_ count: Int) -> [Int] {
    if count <= 4 << 10 { return Array(0..<count) }
    var lengths = Set(stride(from: 0, to: count, by: max(1, count / (count < 64 << 10 ? 250 : 40))))
    lengths.formUnion(max(0, count - 48)..<count)
    return lengths.sorted()
  }

  @Test func coversEveryTestModelUnderOneMebibyte() {
    #expect(Self.files.count >= 30)
    #expect(Self.files.contains("small_bn.pt"))
  }

  @Test(arguments: files)
  func everyPrefixIsACleanError(file: String) throws {
    let data = try #require(FileManager.default.contents(atPath: "\(repositoryRoot)/TestModels/\(file)"))
    let bytes = [UInt8](data)
    let isZip = bytes.starts(with: [0x50, 0x4b, 0x03, 0x04])
    let limits = Limits.default
    for length in Self.prefixLengths(bytes.count) {
      let prefix = FileBytes(copying: bytes[0..<length], label: file)
      do {
        _ = try WeightFileReader.read(prefix, path: "/nonexistent/\(file)", limits: limits)
        // A protobuf may end at a field boundary; a zip prefix has no end record.
        #expect(!isZip, "\(file): prefix of \(length) bytes was read as a whole archive")
      } catch {
        if let offset = error.offset {
          #expect(offset >= 0 && offset <= length, "\(file)[..<\(length)]: \(error)")
        }
      }
      do {
        _ = try Scanner.scan(prefix, path: "/nonexistent/\(file)", limits: limits, depth: .full)
      } catch {
        if let offset = error.offset {
          #expect(offset >= 0 && offset <= length, "\(file)[..<\(length)] scan: \(error)")
        }
      }
    }
  }
}
