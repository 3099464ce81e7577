import Testing
@testable import CausewayCore

@Suite struct MACAddressTests {
    @Test func parsesAndPrintsTheColonForm() throws {
        let address = try #require(MACAddress("02:00:5e:10:00:0a"))
        #expect(address.description == "02:00:5e:10:00:0a")
        #expect(address.bytes == [0x02, 0x00, 0x5E, 0x10, 0x00, 0x0A])
    }

    @Test(arguments: ["02:00:5e:10:00", "02:00:5e:10:00:0g", "0200.5e10.000a", "02:00:5e:10:00:0a:01", ""])
    func refusesMalformedText(_ text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test func knowsGroupAddresses() throws {
        #expect(MACAddress.broadcast.isGroup)
        #expect(try #require(MACAddress("01:00:5e:00:00:01")).isGroup)
        #expect(try !#require(MACAddress("02:00:00:00:00:01")).isGroup)
    }

    @Test func derivedAddressesAreLocallyAdministeredUnicast() {
        let address = MACAddress.locallyAdministered(derivedFrom: [0xFF, 1, 2, 3, 4, 5, 6])
        #expect(address.bytes[0] & 0x02 == 0x02)
        #expect(!address.isGroup)
        #expect(address.bytes[1...] == [1, 2, 3, 4, 5])
    }
}

@Suite struct EthernetHeaderTests {
    static func frame(destination: [UInt8], source: [UInt8], vlan: UInt16? = nil, tags: [UInt8] = []) -> [UInt8] {
        var bytes = destination + source + tags
        if let vlan { bytes += [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xFF)] }
        return bytes + [0x08, 0x00] + Array(repeating: 0, count: 46)
    }

    static func header(_ bytes: [UInt8]) -> EthernetHeader? {
        bytes.withUnsafeBytes { frame in FrameLayout(frame: frame).map { EthernetHeader(frame: frame, layout: $0) } }
    }

    @Test func readsAddressesOfAnUntaggedFrame() throws {
        let bytes = Self.frame(destination: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], source: [2, 0, 0, 0, 0, 1])
        let header = try #require(Self.header(bytes))
        #expect(header.destination == .broadcast)
        #expect(header.source == MACAddress([2, 0, 0, 0, 0, 1]))
        #expect(header.vlan == nil)
    }

    @Test func readsTheVLANOfATaggedFrame() throws {
        let bytes = Self.frame(destination: [2, 0, 0, 0, 0, 2], source: [2, 0, 0, 0, 0, 1], vlan: 0x2064)
        let header = try #require(Self.header(bytes))
        #expect(header.vlan == 0x064, "the priority bits are not part of the VLAN id")
    }

    @Test func aFrameTaggedTwiceIsSwitchedInItsOuterVLAN() throws {
        let bytes = Self.frame(destination: [2, 0, 0, 0, 0, 2], source: [2, 0, 0, 0, 0, 1], vlan: 0x0123, tags: [0x88, 0xA8, 0x30, 0x07])
        let header = try #require(Self.header(bytes))
        #expect(header.vlan == 0x007)
        #expect(header.source == MACAddress([2, 0, 0, 0, 0, 1]))
    }

    @Test func refusesARuntFrame() {
        let bytes = [UInt8](repeating: 0, count: 13)
        #expect(Self.header(bytes) == nil)
    }
}
