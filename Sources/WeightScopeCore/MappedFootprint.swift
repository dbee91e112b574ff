/// Keeps a walk from header to header across a mapped file from keeping the payloads between
/// them mapped, when the kernel maps them along with the headers.
///
/// A listing touches one header per tensor and skips the payload after it. When the file's
/// pages are all in the page cache, as after it was downloaded, copied or read whole, each
/// touch can map up to 2 MiB of the payload too, and a 500 MB model would count as 500 MB of
/// resident memory. At the first long jump, and every ``checkEvery`` long jumps after it until
/// the answer is yes (part of a file may be cached whole and part not), the walk checks
/// whether touching the header mapped more than a couple of the pages after it; from then on,
/// every few headers it unmaps what it has passed.
public struct MappedFootprint {
  /// Headers passed between two releases.
  static let releaseEvery = 4
  /// Long jumps between two checks while headers have not been seen to map their neighbours.
  static let checkEvery = 32

  private let bytes: FileBytes
  /// Whether headers map their neighbours; nil until the first long jump.
  public private(set) var mapsAround: Bool?
  private var passed = 0
  private var jumps = 0
  /// Where the part not yet released starts.
  private var releasedUpTo: Int

  /// A walk that starts at `start` and releases nothing before it.
  public init(_ bytes: FileBytes, from start: Int) {
    self.bytes = bytes
    releasedUpTo = start
  }

  /// A walk over the same file and region, knowing what an earlier walk found out.
  public func restarted(from start: Int) -> MappedFootprint {
    var walk = MappedFootprint(bytes, from: start)
    walk.mapsAround = mapsAround
    return walk
  }

  /// Call once the header at `position`, reached by a long jump, has been read.
  public mutating func landed(at position: Int) {
    // Two pages after a header may be mapped by the listing's own read-ahead of it: at that,
    // a thousand headers stay under 10 MiB without releasing anything.
    if mapsAround != true, jumps % Self.checkEvery == 0 {
      mapsAround = bytes.mappedPages(after: position) > 2
    }
    jumps += 1
    guard mapsAround == true else { return }
    passed += 1
    guard passed % Self.releaseEvery == 0 else { return }
    bytes.release(releasedUpTo..<position)
    releasedUpTo = position
  }
}
