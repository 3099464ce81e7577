import Testing
@testable import CausewayCore

/// Real TCP SYN frames, checksummed the way a host's stack does, so that a wrong incremental
/// update shows as a checksum that no longer verifies.
enum TCPFrames {
    static func checksum(_ words: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < words.count {
            sum += UInt32(words[index]) << 8 | UInt32(words[index + 1])
            index += 2
        }
        if index < words.count { sum += UInt32(words[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// A SYN with the given options bytes, over IPv4 or IPv6, optionally in a VLAN tag
    /// (or behind any `tags` bytes, outer tags first).
    static func syn(ipv6: Bool = false, vlan: UInt16? = nil, tags: [UInt8] = [], options: [UInt8], flags: UInt8 = 0x02) -> [UInt8] {
        var tcp: [UInt8] = [0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0]
        tcp += [UInt8((20 + options.count) / 4) << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0] + options
        let source: [UInt8] = ipv6 ? [0xfd] + Array(repeating: 0, count: 14) + [1] : [198, 19, 0, 1]
        let destination: [UInt8] = ipv6 ? [0xfd] + Array(repeating: 0, count: 14) + [2] : [198, 19, 0, 2]
        let length = UInt16(tcp.count)
        let pseudo = source + destination + (ipv6 ? [0, 0] : [0, 6]) + [UInt8(length >> 8), UInt8(length & 0xFF)] + (ipv6 ? [0, 0, 0, 6] : [])
        let sum = checksum(pseudo + tcp)
        tcp[16] = UInt8(sum >> 8); tcp[17] = UInt8(sum & 0xFF)

        var ip: [UInt8]
        if ipv6 {
            ip = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 6, 64] + source + destination
        } else {
            let total = UInt16(20 + tcp.count)
            ip = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0x40, 0, 64, 6, 0, 0] + source + destination
            let ipSum = checksum(ip)
            ip[10] = UInt8(ipSum >> 8); ip[11] = UInt8(ipSum & 0xFF)
        }
        var ethernet: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] + tags
        if let vlan { ethernet += [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xFF)] }
        ethernet += ipv6 ? [0x86, 0xDD] : [0x08, 0x00]
        return ethernet + ip + tcp
    }

    /// Where IP starts: after the EtherType that follows any 0x8100 or 0x88A8 tags.
    static func ipOffset(_ frame: [UInt8]) -> Int {
        var type = 12
        while (frame[type] == 0x81 && frame[type + 1] == 0x00) || (frame[type] == 0x88 && frame[type + 1] == 0xA8) { type += 4 }
        return type + 2
    }

    static func tcpOffset(_ frame: [UInt8]) -> Int {
        let l2 = ipOffset(frame)
        return frame[l2] >> 4 == 6 ? l2 + 40 : l2 + Int(frame[l2] & 0x0F) * 4
    }

    static func mss(_ frame: [UInt8], at optionOffset: Int) -> Int {
        let position = tcpOffset(frame) + 20 + optionOffset + 2
        return Int(frame[position]) << 8 | Int(frame[position + 1])
    }

    /// Whether the TCP checksum of `frame` verifies.
    static func verifies(_ frame: [UInt8]) -> Bool {
        let l2 = ipOffset(frame)
        let ipv6 = frame[l2] >> 4 == 6
        let tcp = Array(frame[tcpOffset(frame)...])
        let length = UInt16(tcp.count)
        let pseudo = ipv6
            ? Array(frame[(l2 + 8)..<(l2 + 40)]) + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 6]
            : Array(frame[(l2 + 12)..<(l2 + 20)]) + [0, 6, UInt8(length >> 8), UInt8(length & 0xFF)]
        return checksum(pseudo + tcp) == 0
    }
}

@Suite struct MSSClampTests {
    let mss1460: [UInt8] = [2, 4, 0x05, 0xb4]

    func clamped(_ frame: [UInt8], largestFrame: Int) -> ([UInt8], Bool) {
        var copy = frame
        let changed = copy.withUnsafeMutableBytes { frame in
            FrameLayout(frame: UnsafeRawBufferPointer(frame)).map { MSSClamp.clamp(frame, layout: $0, largestFrame: largestFrame) } ?? false
        }
        return (copy, changed)
    }

    @Test func clampsAnIPv4SynToTheLargestWholeFrame() {
        let syn = TCPFrames.syn(options: mss1460 + [1, 1, 4, 2])
        #expect(TCPFrames.verifies(syn))
        let (out, changed) = clamped(syn, largestFrame: 1436)
        #expect(changed)
        #expect(TCPFrames.mss(out, at: 0) == 1436 - 14 - 40)
        #expect(TCPFrames.verifies(out))
    }

    @Test func clampsIPv6AndTaggedFrames() {
        let v6 = clamped(TCPFrames.syn(ipv6: true, options: mss1460), largestFrame: 1216)
        #expect(v6.1 && TCPFrames.mss(v6.0, at: 0) == 1216 - 14 - 60 && TCPFrames.verifies(v6.0))
        let tagged = clamped(TCPFrames.syn(vlan: 100, options: mss1460), largestFrame: 1436)
        #expect(tagged.1 && TCPFrames.mss(tagged.0, at: 0) == 1436 - 18 - 40 && TCPFrames.verifies(tagged.0))
    }

    @Test func anMSSAtAnOddOffsetKeepsTheChecksumRight() {
        let syn = TCPFrames.syn(options: [1] + mss1460 + [0, 0, 0])
        let (out, changed) = clamped(syn, largestFrame: 1300)
        #expect(changed)
        #expect(TCPFrames.mss(out, at: 1) == 1300 - 14 - 40)
        #expect(TCPFrames.verifies(out))
    }

    @Test func leavesWhatAlreadyFitsAndWhatIsNotASyn() {
        #expect(!clamped(TCPFrames.syn(options: [2, 4, 0x04, 0x00]), largestFrame: 1436).1, "MSS 1024 fits")
        #expect(!clamped(TCPFrames.syn(options: mss1460, flags: 0x10), largestFrame: 1436).1, "an ACK is left alone")
        #expect(!clamped(TCPFrames.syn(options: [1, 1, 1, 1]), largestFrame: 1436).1, "no MSS option")
        #expect(!clamped(Array(TCPFrames.syn(options: mss1460).prefix(40)), largestFrame: 1436).1, "a truncated frame")
    }

    @Test func neverReadsPastAMalformedOptionList() {
        // An option length running past the header: left untouched, no crash.
        let (out, changed) = clamped(TCPFrames.syn(options: [3, 9, 0, 0]), largestFrame: 1436)
        #expect(!changed)
        #expect(out == TCPFrames.syn(options: [3, 9, 0, 0]))
    }

    @Test(arguments: [false, true])
    func clampsSynsInOneOrTwoVLANTags(ipv6: Bool) {
        let overhead = ipv6 ? 60 : 40
        let dot1Q = clamped(TCPFrames.syn(ipv6: ipv6, vlan: 100, options: mss1460), largestFrame: 1300)
        #expect(dot1Q.1 && TCPFrames.mss(dot1Q.0, at: 0) == 1300 - 18 - overhead && TCPFrames.verifies(dot1Q.0))
        let qinq = clamped(TCPFrames.syn(ipv6: ipv6, vlan: 100, tags: [0x88, 0xA8, 0, 7], options: mss1460), largestFrame: 1300)
        #expect(qinq.1 && TCPFrames.mss(qinq.0, at: 0) == 1300 - 22 - overhead && TCPFrames.verifies(qinq.0))
    }

    /// The TCP header starts after the IPv4 options, wherever they end.
    @Test func findsTheTCPHeaderBehindIPv4Options() {
        var syn = TCPFrames.syn(options: mss1460)
        syn.insert(contentsOf: [1, 1, 1, 0], at: 34)  // NOP, NOP, NOP, end of options
        syn[14] = 0x46
        syn.replaceSubrange(16..<18, with: be(UInt16(syn.count - 14)))
        syn.replaceSubrange(24..<26, with: [0, 0])
        syn.replaceSubrange(24..<26, with: be(TCPFrames.checksum(Array(syn[14..<38]))))
        #expect(TCPFrames.tcpOffset(syn) == 38 && TCPFrames.verifies(syn))
        let (out, changed) = clamped(syn, largestFrame: 1436)
        #expect(changed && TCPFrames.mss(out, at: 0) == 1436 - 14 - 40 && TCPFrames.verifies(out))
    }

    @Test(arguments: [0, 4] as [UInt8])
    func leavesAnIPv4HeaderLengthBelowFiveAlone(words: UInt8) {
        var syn = TCPFrames.syn(options: mss1460)
        syn[14] = 0x40 | words
        let (out, changed) = clamped(syn, largestFrame: 1000)
        #expect(!changed)
        #expect(out == syn)
    }

    /// Cut short at every length, a SYN is clamped exactly when its MSS option is still
    /// inside, and then exactly as the whole SYN is; never a byte past the end.
    @Test(arguments: [false, true])
    func aTruncatedSynIsClampedOnlyWhenItsOptionIsInside(ipv6: Bool) {
        let whole = TCPFrames.syn(ipv6: ipv6, vlan: 100, tags: [0x88, 0xA8, 0, 7], options: mss1460 + [1, 1, 4, 2])
        let (wholeClamped, _) = clamped(whole, largestFrame: 1300)
        let optionEnd = TCPFrames.tcpOffset(whole) + 20 + 4
        for length in 0...whole.count {
            let (out, changed) = clamped(Array(whole.prefix(length)), largestFrame: 1300)
            #expect(changed == (length >= optionEnd), "length \(length)")
            #expect(out == Array((changed ? wholeClamped : whole).prefix(length)), "length \(length)")
        }
    }
}
