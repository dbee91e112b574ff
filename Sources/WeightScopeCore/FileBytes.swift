#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bytes of a file, memory-mapped read-only, or a private copy of bytes made in memory.
///
/// Mapping costs nothing until a page is touched; readers touch only the headers they need, so
/// listing a multi-gigabyte checkpoint reads a few pages. The mapping is advised for random
/// access so that the kernel does not read ahead megabytes around every touched page.
public final class FileBytes: @unchecked Sendable {
  /// The whole file. Valid as long as this object lives.
  public let buffer: UnsafeRawBufferPointer
  /// The path the bytes came from, or a label for bytes made in memory.
  public let path: String
  private let release: Release

  private enum Release {
    case unmap
    case deallocate
    case none
  }

  /// Maps the file at `path` read-only.
  ///
  /// - Throws: `.io` when the file cannot be opened, is not a regular file, or cannot be mapped.
  public init(path: String) throws(ReadError) {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ReadError(.io, at: nil, "cannot open: \(errnoText())") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw ReadError(.io, at: nil, "cannot stat: \(errnoText())") }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw ReadError(.io, at: nil, "not a regular file")
    }
    let size = Int(info.st_size)
    if size == 0 {
      buffer = UnsafeRawBufferPointer(start: nil, count: 0)
      release = .none
      return
    }
    let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let address, address != MAP_FAILED else {
      throw ReadError(.io, at: nil, "cannot map \(size) bytes: \(errnoText())")
    }
    _ = madvise(address, size, MADV_RANDOM)
    buffer = UnsafeRawBufferPointer(start: address, count: size)
    release = .unmap
  }

  /// A private copy of `bytes`, for bytes made in memory (inflated entries, tests).
  public init<C: Collection>(copying bytes: C, label: String = "<memory>") where C.Element == UInt8 {
    path = label
    let count = bytes.count
    if count == 0 {
      buffer = UnsafeRawBufferPointer(start: nil, count: 0)
      release = .none
      return
    }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
    _ = storage.initializeMemory(as: UInt8.self, from: bytes)
    buffer = UnsafeRawBufferPointer(storage)
    release = .deallocate
  }

  /// Takes ownership of memory allocated with `UnsafeMutableRawBufferPointer.allocate`.
  public init(adopting storage: UnsafeMutableRawBufferPointer, label: String) {
    path = label
    buffer = UnsafeRawBufferPointer(storage)
    release = storage.baseAddress == nil ? .none : .deallocate
  }

  deinit {
    guard let base = buffer.baseAddress else { return }
    switch release {
    case .unmap: munmap(UnsafeMutableRawPointer(mutating: base), buffer.count)
    case .deallocate: UnsafeMutableRawPointer(mutating: base).deallocate()
    case .none: break
    }
  }

  public var count: Int { buffer.count }

  /// Asks the kernel to read `range` in and map it now, in one request: for a region a reader
  /// is about to walk whole (a zip directory, a pickle), which the random-access advice would
  /// otherwise fetch a page at a time on a cold cache and map with a fault per page on a warm
  /// one. The part of `range` outside the file is ignored; bytes not mapped from a file are
  /// left alone.
  public func willNeed(_ range: Range<Int>) {
    advise(range, MADV_WILLNEED)
    #if os(Linux)
      advise(range, 22)  // MADV_POPULATE_READ (Linux 5.14), not in the Glibc module.
    #endif
  }

  /// Asks the kernel to start reading `range` in, and returns at once: for bytes a reader
  /// expects to need soon. The part of `range` outside the file is ignored; bytes not mapped
  /// from a file are left alone.
  public func prefetch(_ range: Range<Int>) {
    advise(range, MADV_WILLNEED)
  }

  /// Unmaps the whole pages inside `range` from this process. The bytes stay readable: when
  /// touched again they are mapped again from the page cache. For a walk that has passed them,
  /// so that pages mapped along the way do not add up in the process's resident memory.
  public func release(_ range: Range<Int>) {
    advise(range, MADV_DONTNEED, wholePagesOnly: true)
  }

  /// `madvise` over the pages of `range` inside the file: every page it touches, or with
  /// `wholePagesOnly` only those it covers entirely. Nothing for bytes not mapped from a file.
  private func advise(_ range: Range<Int>, _ advice: Int32, wholePagesOnly: Bool = false) {
    guard release == .unmap, let base = buffer.baseAddress else { return }
    let page = 4096
    let lower = max(0, range.lowerBound)
    let upper = min(buffer.count, range.upperBound)
    guard lower < upper else { return }
    // madvise takes a page-aligned start.
    let start = wholePagesOnly ? (lower + page - 1) & ~(page - 1) : lower & ~(page - 1)
    let end = wholePagesOnly ? upper & ~(page - 1) : upper
    guard start < end else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, advice)
  }

  /// How many of the 8 pages after the one holding `offset` are mapped into this process.
  ///
  /// The kernel maps pages it holds cached around a page fault, a whole large folio at once
  /// where it can: for a file just read or copied whole, touching one header maps up to 2 MiB
  /// of the payload after it. Found from `/proc/self/pagemap`; 0 where it cannot be read.
  public func mappedPages(after offset: Int) -> Int {
    #if os(Linux)
      guard release == .unmap, let base = buffer.baseAddress, offset >= 0,
        offset < buffer.count
      else { return 0 }
      let count = min(8, (buffer.count - 1) / 4096 - offset / 4096)
      guard count > 0 else { return 0 }
      let fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { return 0 }
      defer { close(fd) }
      // One 64-bit entry per page of the address space; bit 63 says the page is mapped.
      let page = (Int(bitPattern: base) + offset) / 4096 + 1
      var entries = [UInt64](repeating: 0, count: 8)
      let read = entries.withUnsafeMutableBytes {
        pread(fd, $0.baseAddress, count * 8, off_t(page * 8))
      }
      guard read == count * 8 else { return 0 }
      return entries.prefix(count).filter { $0 >> 63 == 1 }.count
    #else
      return 0
    #endif
  }

  /// A reader over the whole file.
  public func reader() -> ByteReader { ByteReader(self) }
}

func errnoText() -> String {
  guard let text = strerror(errno) else { return "errno \(errno)" }
  return String(cString: text)
}
