import Testing
@testable import CausewayCore

@Suite struct TooBigReplyTests {
    func reply(to frame: [UInt8], largestFrame: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 2048)
        let length = frame.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { out in
                FrameLayout(frame: input).flatMap { TooBigReply.build(for: input, layout: $0, largestFrame: largestFrame, into: out) }
            }
        }
        return length.map { Array(out[0..<$0]) }
    }

    @Test func answersAnIPv4PacketWithDFAsARouterWould() throws {
        let syn = TCPFrames.syn(options: [2, 4, 0x05, 0xb4])  // DF is set
        let answer = try #require(reply(to: syn, largestFrame: 1216))
        #expect(Array(answer[0..<6]) == Array(syn[6..<12]), "back to the sender's MAC")
        #expect(Array(answer[6..<12]) == Array(syn[0..<6]), "from the destination's MAC")
        let ip = Array(answer[14...])
        #expect(ip[9] == 1)
        #expect(Array(ip[12..<16]) == Array(syn[30..<34]) && Array(ip[16..<20]) == Array(syn[26..<30]))
        #expect(TCPFrames.checksum(Array(ip[0..<20])) == 0, "a valid IPv4 header checksum")
        let icmp = Array(ip[20...])
        #expect(icmp[0] == 3 && icmp[1] == 4)
        #expect(Int(icmp[6]) << 8 | Int(icmp[7]) == 1216 - 14, "the MTU that crosses whole")
        #expect(TCPFrames.checksum(icmp) == 0, "a valid ICMP checksum")
        #expect(Array(icmp[8...]) == Array(syn[14...]), "the original packet quoted")
    }

    @Test func answersIPv6OnlyWithAnMTUHostsAccept() throws {
        let syn = TCPFrames.syn(ipv6: true, options: [2, 4, 0x05, 0xb4])
        let answer = try #require(reply(to: syn, largestFrame: 1400))
        let ip = Array(answer[14...])
        #expect(ip[6] == 58)
        #expect(Array(ip[8..<24]) == Array(syn[38..<54]), "from the packet's destination")
        let icmp = Array(ip[40...])
        #expect(icmp[0] == 2)
        #expect(Int(icmp[6]) << 8 | Int(icmp[7]) == 1386)
        let length = UInt16(icmp.count)
        let pseudo = Array(ip[8..<40]) + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 58]
        #expect(TCPFrames.checksum(pseudo + icmp) == 0, "a valid ICMPv6 checksum")
        #expect(reply(to: syn, largestFrame: 1216) == nil, "an MTU under 1280 is useless to IPv6 hosts: split instead")
    }

    @Test func staysSilentWhenARouterWould() {
        var noDF = TCPFrames.syn(options: [])
        noDF[20] = 0
        #expect(reply(to: noDF, largestFrame: 1000) == nil, "IPv4 without DF is split instead")
        var icmpError = TCPFrames.syn(options: [])
        icmpError[23] = 1   // protocol ICMP
        icmpError[34] = 3   // destination unreachable
        #expect(reply(to: icmpError, largestFrame: 1000) == nil, "never an error about an error")
        var broadcastSource = TCPFrames.syn(options: [])
        broadcastSource[6] = 0xFF
        #expect(reply(to: broadcastSource, largestFrame: 1000) == nil)
        #expect(reply(to: [UInt8](repeating: 0, count: 60), largestFrame: 1000) == nil, "not IP")
    }

    @Test func answersInTheSameTwoVLANs() throws {
        let syn = TCPFrames.syn(vlan: 100, tags: [0x88, 0xA8, 0, 7], options: [2, 4, 0x05, 0xb4])
        let answer = try #require(reply(to: syn, largestFrame: 1216))
        #expect(Array(answer[12..<22]) == Array(syn[12..<22]), "tags and EtherType as they came")
        let ip = Array(answer[22...])
        #expect(TCPFrames.checksum(Array(ip[0..<20])) == 0)
        let icmp = Array(ip[20...])
        #expect(Int(icmp[6]) << 8 | Int(icmp[7]) == 1216 - 22)
        #expect(Array(icmp[8...]) == Array(syn[22...]))
    }

    @Test func neverAnswersAnICMPv6ErrorBehindExtensionHeaders() {
        let error: [UInt8] = [1, 4, 0, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 40)  // destination unreachable
        let frame = Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 0, Frames.options(next: 58) + error + Array(repeating: 0, count: 1400)))
        #expect(reply(to: frame, largestFrame: 1300) == nil)
        var echo = frame
        echo[14 + 40 + 8] = 128  // an echo request is answered
        #expect(reply(to: echo, largestFrame: 1300) != nil)
    }

    @Test func neverAnswersALaterIPv4FragmentOrABadHeaderLength() {
        let later = Frames.ethernet(type: 0x0800, Frames.ipv4(fragment: 0x4000 | 185, Array(repeating: 0, count: 1400)))
        #expect(reply(to: later, largestFrame: 1000) == nil)
        let first = Frames.ethernet(type: 0x0800, Frames.ipv4(fragment: 0x4000, Array(repeating: 0, count: 1400)))
        #expect(reply(to: first, largestFrame: 1000) != nil)
        let badLength = Frames.ethernet(type: 0x0800, Frames.ipv4(words: 4, fragment: 0x4000, Array(repeating: 0, count: 1400)))
        #expect(reply(to: badLength, largestFrame: 1000) == nil)
    }

    /// Cut short at every length: a reply exactly when the IP header is whole, quoting only
    /// what is there.
    @Test(arguments: [false, true])
    func aTruncatedFrameIsAnsweredOnlyFromWhatIsThere(ipv6: Bool) {
        let whole = TCPFrames.syn(ipv6: ipv6, vlan: 100, tags: [0x88, 0xA8, 0, 7], options: [2, 4, 0x05, 0xb4]) + payload(1400, 3)
        let ipEnd = 22 + (ipv6 ? 40 : 20)
        for length in 0...whole.count {
            let frame = Array(whole.prefix(length))
            let answer = reply(to: frame, largestFrame: 1400)
            #expect((answer != nil) == (length >= ipEnd), "length \(length)")
            guard let answer else { continue }
            let quotedAt = 22 + (ipv6 ? 48 : 28)
            let quoted = Array(answer[quotedAt...])
            #expect(!quoted.isEmpty && quoted == Array(frame[22..<(22 + quoted.count)]), "length \(length)")
        }
    }
}
