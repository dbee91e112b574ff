#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif
import WeightScopeCore

/// Finds the files that hold external tensor data, next to the model, and measures them.
///
/// A `location` is a relative POSIX path inside the model's folder. Absolute paths, `..`
/// components, and symbolic links that lead outside the folder are refused: a model must not make
/// WeightScope look at arbitrary files. Files are only `stat`ed, never opened; results are
/// cached, since thousands of tensors usually share one file.
struct ExternalDataResolver {
  /// What is known of one location.
  enum Lookup: Equatable {
    /// A regular file of this many bytes.
    case file(size: Int)
    /// Nothing there (or not a regular file); the reason, for a finding.
    case missing(String)
  }

  /// The folder the model file is in.
  let directory: String
  private var cache: [String: Lookup] = [:]
  private var resolvedDirectory: String??

  init(modelPath: String) {
    if let slash = modelPath.lastIndex(of: "/") {
      let folder = String(modelPath[..<slash])
      directory = folder.isEmpty ? "/" : folder
    } else {
      directory = "."
    }
  }

  /// Looks `location` up.
  ///
  /// - Throws: `.refused` for an empty or absolute location, a `..` component, or a path whose
  ///   real location is outside the model's folder.
  mutating func lookup(_ location: String, at offset: Int?) throws(ReadError) -> Lookup {
    if let known = cache[location] { return known }
    let result = try resolve(location, at: offset)
    cache[location] = result
    return result
  }

  private mutating func resolve(_ location: String, at offset: Int?) throws(ReadError) -> Lookup {
    guard !location.isEmpty else {
      throw ReadError(.refused, at: offset, "external data location is empty")
    }
    guard !location.utf8.contains(0) else {
      throw ReadError(
        .refused, at: offset, "external data location \(quoted(location)) contains NUL")
    }
    guard location.first != "/" else {
      throw ReadError(
        .refused, at: offset,
        "external data location \(quoted(location)) is an absolute path")
    }
    if location.split(separator: "/", omittingEmptySubsequences: true).contains("..") {
      throw ReadError(
        .refused, at: offset,
        "external data location \(quoted(location)) leaves the model's folder (..)")
    }
    let full = directory + "/" + location
    guard let real = realPath(full) else {
      return .missing("\(quoted(location)) not found next to the model: \(errnoDescription())")
    }
    if resolvedDirectory == nil { resolvedDirectory = .some(realPath(directory)) }
    guard case .some(.some(let folder)) = resolvedDirectory else {
      return .missing("the model's folder \(quoted(directory)) cannot be resolved")
    }
    let prefix = folder.hasSuffix("/") ? folder : folder + "/"
    guard real.hasPrefix(prefix) else {
      throw ReadError(
        .refused, at: offset,
        "external data location \(quoted(location)) resolves to \(quoted(real)), outside the model's folder"
      )
    }
    var info = stat()
    guard stat(real, &info) == 0 else {
      return .missing("cannot stat \(quoted(location)): \(errnoDescription())")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      return .missing("\(quoted(location)) is not a regular file")
    }
    return .file(size: Int(info.st_size))
  }

  private func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  private func errnoDescription() -> String {
    guard let text = strerror(errno) else { return "errno \(errno)" }
    return String(cString: text)
  }
}

/// `"text"` with quotes and escapes, for messages about names from a file.
func quoted(_ text: String) -> String {
  printable(Array(text.utf8), limit: 200)
}

/// A non-negative decimal integer as ONNX writes `offset` and `length`; nil otherwise.
func parseDecimal(_ text: String) -> Int? {
  guard !text.isEmpty else { return nil }
  var value = 0
  for byte in text.utf8 {
    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
    let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
    let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
    guard !overflow1, !overflow2 else { return nil }
    value = sum
  }
  return value
}
