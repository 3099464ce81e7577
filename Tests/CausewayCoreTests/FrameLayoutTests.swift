import Testing
@testable import CausewayCore

/// Frames built byte by byte, so that each test names exactly the headers it walks.
enum Frames {
    static let addresses: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
    static let dot1Q: [UInt8] = [0x81, 0x00, 0x01, 0x23]       // VLAN 0x123
    static let serviceTag: [UInt8] = [0x88, 0xA8, 0x30, 0x07]  // priority 1, VLAN 7

    static func ethernet(tags: [UInt8] = [], type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        addresses + tags + be(type) + payload
    }

    /// An IPv4 header of `words` 32-bit words (options filled with NOPs), then `payload`.
    static func ipv4(words: UInt8 = 5, protocol: UInt8 = 6, fragment: UInt16 = 0x4000, totalLength: UInt16? = nil, _ payload: [UInt8]) -> [UInt8] {
        let headerLength = max(Int(words) * 4, 20)
        let total = totalLength ?? UInt16(headerLength + payload.count)
        var header = [0x40 | words, 0] + be(total) + be(UInt16(1)) + be(fragment) + [64, `protocol`, 0, 0]
        header += [198, 19, 0, 1, 198, 19, 0, 2] + Array(repeating: 1, count: headerLength - 20)
        header.replaceSubrange(10..<12, with: be(header.withUnsafeBytes { InternetChecksum.checksum($0) }))
        return header + payload
    }

    static func ipv6(next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be(UInt16(payload.count)) + [next, 64]
            + [0xfd] + Array(repeating: 0, count: 14) + [1] + [0xfd] + Array(repeating: 0, count: 14) + [2] + payload
    }

    /// An extension header with 8-byte length units (hop-by-hop, routing, destination options).
    static func options(next: UInt8, units: UInt8 = 0) -> [UInt8] {
        [next, units] + Array(repeating: 1, count: 6 + Int(units) * 8)
    }

    static func fragment(next: UInt8, offset: UInt16, more: Bool) -> [UInt8] {
        [next, 0] + be(offset << 3 | (more ? 1 : 0)) + be(UInt32(0xABCD))
    }

    /// A TCP header without options, then `payload`.
    static let tcp: [UInt8] = be(UInt16(40_000)) + be(UInt16(80)) + be(UInt32(1)) + be(UInt32(0)) + [0x50, 0x10, 0xFA, 0xF0, 0, 0, 0, 0]
        + Array(repeating: 0xEE, count: 16)

    static func layout(_ frame: [UInt8]) -> FrameLayout? {
        frame.withUnsafeBytes { FrameLayout(frame: $0) }
    }
}

@Suite struct FrameLayoutTests {
    @Test func readsAnUntaggedIPv4Segment() throws {
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(Frames.tcp))))
        #expect(layout.tagCount == 0 && layout.vlan == nil)
        #expect(layout.etherType == EtherType.ipv4 && layout.networkOffset == 14)
        #expect(layout.ipVersion == .ipv4 && layout.ipHeaderLength == 20)
        #expect(layout.transportProtocol == IPProtocol.tcp && layout.transportOffset == 34)
        #expect(!layout.isFragment && layout.isFirstOrWhole)
    }

    @Test func looksThroughAn8021QTag() throws {
        let layout = try #require(Frames.layout(Frames.ethernet(tags: Frames.dot1Q, type: 0x0800, Frames.ipv4(Frames.tcp))))
        #expect(layout.tagCount == 1 && layout.vlan == 0x123)
        #expect(layout.networkOffset == 18 && layout.transportOffset == 38)
    }

    @Test func looksThroughQinQAndLearnsTheOuterVLAN() throws {
        let frame = Frames.ethernet(tags: Frames.serviceTag + Frames.dot1Q, type: 0x86DD, Frames.ipv6(next: 6, Frames.tcp))
        let layout = try #require(Frames.layout(frame))
        #expect(layout.tagCount == 2 && layout.vlan == 7)
        #expect(layout.etherType == EtherType.ipv6 && layout.networkOffset == 22)
        #expect(layout.ipVersion == .ipv6 && layout.transportOffset == 62)
    }

    @Test func aThirdTagIsNotLookedThrough() throws {
        let frame = Frames.ethernet(tags: Frames.serviceTag + Frames.dot1Q + Frames.dot1Q, type: 0x0800, Frames.ipv4(Frames.tcp))
        let layout = try #require(Frames.layout(frame))
        #expect(layout.tagCount == 2 && layout.vlan == 7)
        #expect(layout.etherType == EtherType.vlanTag)
        #expect(layout.ipVersion == .none && layout.transportProtocol == nil && layout.transportOffset == nil)
    }

    @Test func skipsIPv4Options() throws {
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(words: 7, Frames.tcp))))
        #expect(layout.ipHeaderLength == 28 && layout.transportOffset == 14 + 28)
    }

    @Test(arguments: [0, 1, 4] as [UInt8])
    func refusesAnIPv4HeaderLengthBelowFive(words: UInt8) throws {
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(words: words, Frames.tcp))))
        #expect(layout.ipVersion == .ipv4)
        #expect(layout.ipHeaderLength == nil && layout.transportProtocol == nil && layout.transportOffset == nil)
    }

    @Test func refusesAnIPv4HeaderLongerThanTheFrameOrItsTotalLength() throws {
        let beyond = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(words: 15, []))))
        #expect(beyond.ipHeaderLength == 60 && beyond.transportOffset == nil, "a header ending with the frame carries no transport")
        var cut = Frames.ethernet(type: 0x0800, Frames.ipv4(words: 15, []))
        cut.removeLast()
        #expect(Frames.layout(cut)?.ipHeaderLength == nil)
        let short = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(totalLength: 19, Frames.tcp))))
        #expect(short.ipHeaderLength == nil && short.transportOffset == nil)
    }

    @Test func anIPv4FragmentCarriesTheTransportOnlyWhenFirst() throws {
        let first = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(fragment: 0x2000, Frames.tcp))))
        #expect(first.isFragment && first.isFirstOrWhole && first.transportOffset == 34)
        let later = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv4(fragment: 185, Frames.tcp))))
        #expect(later.isFragment && !later.isFirstOrWhole)
        #expect(later.transportProtocol == IPProtocol.tcp && later.transportOffset == nil)
    }

    @Test func walksIPv6ExtensionHeaders() throws {
        let chain = Frames.options(next: 60) + Frames.options(next: 44, units: 1) + Frames.fragment(next: 6, offset: 0, more: true)
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 0, chain + Frames.tcp))))
        #expect(layout.ipHeaderLength == 40)
        #expect(layout.transportProtocol == IPProtocol.tcp && layout.transportOffset == 14 + 40 + 8 + 16 + 8)
        #expect(layout.isFragment && layout.isFirstOrWhole)
    }

    @Test func countsTheAuthenticationHeaderInFourByteUnits() throws {
        // Payload length 4: (4 + 2) × 4 = 24 bytes.
        let authentication: [UInt8] = [6, 4] + Array(repeating: 0, count: 22)
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 51, authentication + Frames.tcp))))
        #expect(layout.transportProtocol == IPProtocol.tcp && layout.transportOffset == 14 + 40 + 24)
    }

    @Test func aLaterIPv6FragmentStopsAtTheFragmentHeader() throws {
        let chain = Frames.options(next: 44) + Frames.fragment(next: 6, offset: 100, more: true)
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 0, chain + Frames.tcp))))
        #expect(layout.isFragment && !layout.isFirstOrWhole)
        #expect(layout.transportProtocol == IPProtocol.tcp && layout.transportOffset == nil)
    }

    @Test func espAndUnknownHeadersEndTheWalk() throws {
        let esp = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 0, Frames.options(next: 50) + Frames.tcp))))
        #expect(esp.transportProtocol == IPProtocol.encapsulatingSecurityPayload && esp.transportOffset == 14 + 40 + 8)
    }

    @Test func givesUpAfterEightExtensionHeaders() throws {
        func chain(_ count: Int) -> [UInt8] {
            (0..<count).flatMap { Frames.options(next: $0 == count - 1 ? 6 : 60) }
        }
        let eight = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 60, chain(8) + Frames.tcp))))
        #expect(eight.transportProtocol == IPProtocol.tcp && eight.transportOffset == 14 + 40 + 64)
        let nine = try #require(Frames.layout(Frames.ethernet(type: 0x86DD, Frames.ipv6(next: 60, chain(9) + Frames.tcp))))
        #expect(nine.ipVersion == .ipv6 && nine.transportProtocol == nil && nine.transportOffset == nil)
    }

    @Test func anEtherTypeAndVersionThatDisagreeAreNotIP() throws {
        let layout = try #require(Frames.layout(Frames.ethernet(type: 0x0800, Frames.ipv6(next: 6, Frames.tcp))))
        #expect(layout.ipVersion == .none && layout.transportOffset == nil)
    }

    static let framesToCut: [[UInt8]] = [
        Frames.ethernet(type: 0x0800, Frames.ipv4(Frames.tcp)),
        Frames.ethernet(tags: Frames.serviceTag + Frames.dot1Q, type: 0x0800, Frames.ipv4(words: 6, Frames.tcp)),
        Frames.ethernet(tags: Frames.dot1Q, type: 0x86DD, Frames.ipv6(
            next: 0, Frames.options(next: 51, units: 1) + [60, 2] + Array(repeating: 0, count: 14) + Frames.options(next: 44)
                + Frames.fragment(next: 6, offset: 0, more: true) + Frames.tcp)),
    ]

    /// Cut short at every length, a frame never yields an offset outside what is left, and
    /// keeps every offset of the whole frame that still fits.
    @Test(arguments: framesToCut)
    func aTruncatedFrameNeverPointsOutsideIt(_ whole: [UInt8]) throws {
        let full = try #require(Frames.layout(whole))
        let transport = try #require(full.transportOffset)
        for length in 0...whole.count {
            let frame = Array(whole.prefix(length))
            guard let layout = Frames.layout(frame) else {
                #expect(length < 14, "only a runt has no layout")
                continue
            }
            #expect(layout.networkOffset <= length)
            if let header = layout.ipHeaderLength { #expect(layout.networkOffset + header <= length, "length \(length)") }
            if let offset = layout.transportOffset { #expect(offset < length, "length \(length)") }
            if length > transport {
                #expect(layout == full, "length \(length)")
            } else {
                #expect(layout.transportOffset == nil, "length \(length)")
            }
        }
    }
}
