import Testing

@testable import WeightScopeCore

@Suite struct HeapReserveTests {
  @Test func reservesWhenEnabledAndNeverTooMuch() {
    // Off until enabled: a library user's allocator is left alone.
    HeapReserve.expect(bytes: 64 << 20)
    #expect(HeapReserve.reservedBytes == 0)

    HeapReserve.enable()
    HeapReserve.expect(bytes: HeapReserve.minimum - 1)
    #expect(HeapReserve.reservedBytes == 0)
    #if os(Linux)
      HeapReserve.expect(bytes: 8 << 20)
      #expect(HeapReserve.reservedBytes == 8 << 20)
      HeapReserve.expect(bytes: .max)
      #expect(HeapReserve.reservedBytes == HeapReserve.maximum)
      HeapReserve.expect(bytes: 32 << 20)
      #expect(HeapReserve.reservedBytes == HeapReserve.maximum)
    #endif

    // The reserved heap is ordinary memory for the allocations that follow.
    let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: 4 << 20)
    for i in stride(from: 0, to: 4 << 20, by: 512) { buffer[i] = UInt64(i) }
    #expect(buffer[(4 << 20) - 512] == UInt64((4 << 20) - 512))
    buffer.deallocate()
  }
}
