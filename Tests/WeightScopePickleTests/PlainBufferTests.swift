import Testing

@testable import WeightScopePickle

@Suite struct PlainBufferTests {
  @Test func growsKeepsOrderAndTruncates() {
    let buffer = PlainBuffer<Int>(capacity: 16)
    for i in 0..<1000 { buffer.append(i) }
    #expect(buffer.count == 1000)
    #expect(buffer.array() == Array(0..<1000))
    buffer.truncate(to: 10)
    #expect(buffer.array() == Array(0..<10))
    #expect(buffer.popLast() == 9)
    #expect(buffer.last == 8)
    buffer[0] = 42
    #expect(buffer.array(0..<2) == [42, 1])
  }

  @Test func appendsARangeOfItselfAcrossAGrowth() {
    let buffer = PlainBuffer<Int>(capacity: 16)
    for i in 0..<16 { buffer.append(i) }
    buffer.append(from: buffer, 4..<16)
    #expect(buffer.array() == Array(0..<16) + Array(4..<16))
    buffer.append(contentsOf: [-1, -2])
    #expect(buffer.array(26..<30) == [14, 15, -1, -2])
  }

  @Test func largeBuffersGrowAndKeepTheirItems() {
    // Over 4 MiB of 8-byte items, then a growth that moves them all.
    let count = (4 << 20) / 8 + 10
    let buffer = PlainBuffer<UInt64>(capacity: count)
    for i in 0..<UInt64(count + 5000) { buffer.append(i &* 3) }
    #expect(buffer.count == count + 5000)
    #expect(buffer[count + 4999] == UInt64(count + 4999) &* 3)
    #expect(buffer[0] == 0)
  }
}
