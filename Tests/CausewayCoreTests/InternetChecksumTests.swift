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

    /// Every length and alignment agrees with the plain definition: big-endian 16-bit words,
    /// an odd last byte padded with zero, carries folded back in.
    @Test func agreesWithTheDefinitionForEveryLengthAndOffset() {
        let bytes: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) } + Array(repeating: 0xFF, count: 64)
        for start in 0..<8 {
            for length in 0...(bytes.count - start) where length % 7 == 0 || length < 20 {
                let slice = Array(bytes[start..<(start + length)])
                var reference: UInt32 = 0
                for index in stride(from: 0, to: slice.count, by: 2) {
                    reference += UInt32(slice[index]) << 8 | (index + 1 < slice.count ? UInt32(slice[index + 1]) : 0)
                }
                while reference >> 16 != 0 { reference = (reference & 0xFFFF) + (reference >> 16) }
                let checksum = bytes.withUnsafeBytes { InternetChecksum.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                #expect(checksum == ~UInt16(reference), "offset \(start), length \(length)")
            }
        }
    }
}
