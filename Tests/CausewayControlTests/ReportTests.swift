import CausewayCore
import Testing
@testable import CausewayControl

@Suite struct ExplanationTests {
    let snapshot = Fixtures.snapshot()

    @Test func aLocalAddressIsSuppressed() {
        let explanation = Explanation(mac: Fixtures.hostA, snapshot: snapshot)
        #expect(explanation.verdict == .suppress)
        #expect(explanation.entry?.location == "local")
        #expect(explanation.reason.contains("learned 20s ago"))
        #expect(explanation.reason.contains("expires in 4m40s"))
    }

    @Test func aRemoteAddressGoesToItsPeer() {
        let explanation = Explanation(mac: Fixtures.hostB, snapshot: snapshot)
        #expect(explanation.verdict == .sendToPeer)
        #expect(explanation.reason.contains(Fixtures.peerEndpoint))
        #expect(explanation.reason.contains("VLAN 100"))
    }

    @Test func unknownAndGroupAddressesFlood() {
        let unknown = Explanation(mac: MACAddress([2, 0, 0, 0, 0, 0x99]), snapshot: snapshot)
        #expect(unknown.verdict == .flood)
        #expect(unknown.entry == nil)
        #expect(unknown.reason.contains("unknown unicast"))
        #expect(Explanation(mac: .broadcast, snapshot: snapshot).reason.hasPrefix("broadcast"))
        #expect(Explanation(mac: MACAddress([0x01, 0, 0x5e, 0, 0, 1]), snapshot: snapshot).reason.hasPrefix("multicast"))
    }
}

@Suite struct MetricsExpositionTests {
    func report(_ counters: Counters) throws -> StatusReport {
        StatusReport(
            snapshot: Fixtures.snapshot(counters: counters), configuration: try Fixtures.configuration(),
            configurationPath: "/etc/causeway/site.toml", tapAddress: MACAddress("02:00:5e:00:00:01")!, uptime: .seconds(42),
            devices: [.init(role: .bridge, name: "br0", state: .up), .init(role: .tap, name: "cw0", state: .down),
                      .init(role: .lan, name: "eth1", state: .missing)]
        )
    }

    @Test func everyCounterHasOneFamilyWithItsValue() throws {
        var counters = Counters()
        counters.framesToPeer = 7
        counters.flooded = 3
        counters.drop(.replay)
        counters.drop(.replay)
        let text = MetricsExposition.render(try report(counters))
        let lines = text.split(separator: "\n").map(String.init)

        // The fixture's counters are all its one peer's: the gateway's own series are zero.
        #expect(lines.contains(#"causeway_peer_datagrams_sent_total{instance="site",peer="site-b"} 7"#))
        #expect(lines.contains(#"causeway_peer_datagrams_sent_total{instance="site"} 0"#))
        #expect(lines.contains(#"causeway_frames_flooded_total{instance="site",peer="site-b"} 3"#))
        #expect(lines.contains(#"causeway_drops_total{instance="site",peer="site-b",reason="replay"} 2"#))
        #expect(lines.contains(#"causeway_drops_total{instance="site",reason="replay"} 0"#))
        #expect(!lines.contains { $0.hasPrefix(#"causeway_drops_total{instance="site",peer="site-b",reason="malformed"}"#) }, "a peer's zero drops are left out")
        #expect(lines.contains(#"causeway_uptime_seconds{instance="site"} 42"#))
        #expect(lines.contains(#"causeway_device_up{instance="site",role="tap",device="cw0"} 0"#))
        #expect(!text.contains("eth1"), "a missing device has no sample")

        for descriptor in Counters.descriptors {
            let name = "causeway_\(descriptor.metric)_total"
            #expect(lines.filter { $0 == "# TYPE \(name) counter" }.count == 1)
            #expect(lines.filter { $0.hasPrefix("# HELP \(name) ") }.count == 1)
        }
        // Every sample line belongs to a declared family, and names its instance.
        let declared = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        for sample in lines where !sample.hasPrefix("#") {
            let name = sample.prefix { $0 != "{" && $0 != " " }
            #expect(declared.contains(name), "\(sample)")
            #expect(sample.hasPrefix(name + #"{instance="site""#), "\(sample)")
        }
    }

    @Test func aSessionsCipherIsALabel() throws {
        var status = try report(Counters())
        status.peers[0].cipher = nil
        #expect(!MetricsExposition.render(status).contains("causeway_session_cipher_info{"), "no session, no sample")
        status.peers[0].cipher = .aes256GCM
        #expect(MetricsExposition.render(status).contains(#"causeway_session_cipher_info{instance="site",peer="site-b",cipher="aes-256-gcm"} 1"#))
    }

    @Test func labelValuesAreEscaped() throws {
        var status = try report(Counters())
        status.peers[0].name = #"a"b\c"#
        #expect(MetricsExposition.render(status).contains(#"peer="a\"b\\c""#))
    }
}

@Suite struct HumanReportTests {
    @Test func tablesLineUp() {
        var table = TextTable(["NAME", "COUNT"], alignments: [.left, .right])
        table.add(["a", "1"])
        table.add(["longer", "1000"])
        #expect(table.text == "NAME    COUNT\na           1\nlonger   1000\n")
    }

    @Test func macTableNamesThePeer() {
        let text = HumanReport.macs(Fixtures.snapshot().macEntries())
        #expect(text.contains("02:00:00:00:00:0a  local"))
        #expect(text.contains("peer \(Fixtures.peerName)"))
        #expect(text.hasSuffix("2 entries\n"))
    }

    @Test func durationsReadNaturally() {
        #expect(HumanDuration.format(seconds: 0.000_18) == "180µs")
        #expect(HumanDuration.format(seconds: 0.25) == "250ms")
        #expect(HumanDuration.format(seconds: 4.25) == "4.3s" || HumanDuration.format(seconds: 4.25) == "4.2s")
        #expect(HumanDuration.format(seconds: 35) == "35s")
        #expect(HumanDuration.format(seconds: 133) == "2m13s")
        #expect(HumanDuration.format(seconds: 3 * 3600 + 4 * 60) == "3h04m")
        #expect(HumanDuration.format(seconds: 2 * 86_400 + 3 * 3600) == "2d03h")
    }
}
