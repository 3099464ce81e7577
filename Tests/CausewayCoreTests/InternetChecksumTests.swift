import Testing
@testable import CausewayCore

@Suite struct InternetChecksumTests {
    /// RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 (after the end-around
    /// carry), so its checksum is 0x220d.
    @Test func sumsTheRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        #expect(bytes.withUnsafeBytes { InternetChecksum.sum($0) } == 0xddf2)
        #expect(bytes.withUnsafeBytes { InternetChecksum.checksum($0) } == 0x220d)
    }

    /// Every length up to 364 bytes and every alignment agrees with the plain definition.
    @Test func agreesWithTheDefinitionForEveryLengthAndOffset() {
        let bytes: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) } + Array(repeating: 0xFF, count: 64)
        for start in 0..<8 {
            for length in 0...(bytes.count - start) {
                expectDefinition(bytes, start..<(start + length))
            }
        }
    }

    /// The largest frames: all ones (the largest sum there is, for the accumulators) and
    /// random bytes, at lengths up to 64 KiB.
    @Test func agreesWithTheDefinitionUpTo64KiB() {
        var generator = SystemRandomNumberGenerator()
        let ones = [UInt8](repeating: 0xFF, count: 65_535 + 8)
        let random = (0..<(65_535 + 8)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in [0, 1, 3] {
            expectDefinition(ones, start..<(start + 65_535))
            expectDefinition(random, start..<(start + 65_535))
            for _ in 0..<20 {
                expectDefinition(random, start..<(start + Int.random(in: 1_000...65_535, using: &generator)))
            }
        }
    }

    /// Big-endian 16-bit words, an odd last byte padded with zero, carries folded back in.
    func expectDefinition(_ bytes: [UInt8], _ range: Range<Int>) {
        var reference: UInt64 = 0
        for index in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
            reference += UInt64(bytes[index]) << 8 | (index + 1 < range.upperBound ? UInt64(bytes[index + 1]) : 0)
        }
        while reference >> 16 != 0 { reference = (reference & 0xFFFF) + (reference >> 16) }
        let checksum = bytes.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[range])) }
        #expect(checksum == ~UInt16(reference), "offset \(range.lowerBound), length \(range.count)")
    }
}
