import Testing
@testable import CausewayCore

@Suite struct TooBigReplyTests {
    func reply(to frame: [UInt8], largestFrame: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 2048)
        let length = frame.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { TooBigReply.build(for: input, largestFrame: largestFrame, into: $0) }
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
}
