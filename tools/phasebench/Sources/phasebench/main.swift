// Times the phases of listing one file, in one process, RUNS times (default 15), and prints
// the minimum and median of each. After the first run the heap's pages are already mapped, so
// these are the phases' CPU costs without the page faults and start-up that a single listing
// also pays (`tools/bench_listing.py` times those).
#if os(Linux)
  import Glibc
#endif
import WeightScope
import WeightScopeAnalysis
import WeightScopeCore
import WeightScopeModel
import WeightScopeONNX
import WeightScopePickle
import WeightScopePyTorch
import WeightScopeZip

func milliseconds() -> Double {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Double(now.tv_sec) * 1e3 + Double(now.tv_nsec) / 1e6
}

/// Runs `body`, adding its time under `phase`.
func timed<T>(
  _ phase: String, _ times: inout [(String, [Double])], _ body: () throws -> T
) rethrows -> T {
  let start = milliseconds()
  let result = try body()
  let elapsed = milliseconds() - start
  if let slot = times.firstIndex(where: { $0.0 == phase }) {
    times[slot].1.append(elapsed)
  } else {
    times.append((phase, [elapsed]))
  }
  return result
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  print("usage: phasebench FILE [RUNS]")
  exit(64)
}
let path = arguments[1]
let runs = arguments.count > 2 ? max(1, Int(arguments[2]) ?? 15) : 15
HeapReserve.enable()
let bytes = try FileBytes(path: path)
var times: [(String, [Double])] = []

for _ in 0..<runs {
  let file: WeightFile
  if ZipArchive.looksLikeZip(bytes.reader()) {
    let zip = try timed("zip directory", &times) { try ZipArchive(bytes.reader()) }
    guard let entry = zip.entry(relative: "data.pkl") else {
      print("\(path): no data.pkl")
      exit(2)
    }
    let pickle = try zip.contents(of: entry)
    let document = try timed("pickle machine", &times) { try PickleMachine.run(pickle) }
    let folder = zip.folder(zip.topFolder.isEmpty ? "data/" : zip.topFolder + "/data/")
    let contents = try timed("walk and check", &times) {
      try CheckpointPickle.read(
        run: document,
        storages: { key in
          folder.entry(named: key).map { StorageRecord(key: key, byteCount: $0.uncompressedSize) }
        }, limits: .default)
    }
    // The same pickle read as a listing reads it: a state dict in one pass where it can be.
    let listed = try timed("data.pkl as listed", &times) {
      try CheckpointPickle.read(
        pickle,
        storages: { key in
          folder.entry(named: key).map { StorageRecord(key: key, byteCount: $0.uncompressedSize) }
        }, limits: .default)
    }
    precondition(listed == contents, "the listing's read differs from the machine's")
    var checkpoint = WeightFile(path: path, format: .pytorchZip)
    checkpoint.tensors = contents.tensors
    file = checkpoint
  } else {
    file = try timed("read", &times) { try WeightFileReader.read(bytes, path: path) }
  }
  _ = timed("analyze", &times) { analyze(file) }
}

for (phase, values) in times {
  let sorted = values.sorted()
  func text(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }
  print("\(phase): min \(text(sorted[0])) ms, median \(text(sorted[sorted.count / 2])) ms")
}
