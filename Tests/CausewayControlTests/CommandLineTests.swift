import CausewayCore
import Foundation
import Testing
@testable import CausewayControl

/// What causewayctl prints and decides, without a daemon: the compact status, human units,
/// the --check verdict, which socket an instance name means, options before the subcommand.
@Suite struct CompactStatusTests {
    static func report(counters: Counters = Counters(), up: Bool = true, peers: Int = 1) throws -> StatusReport {
        var report = StatusReport(
            snapshot: Fixtures.snapshot(counters: counters), configuration: try Fixtures.configuration(),
            configurationPath: "/etc/causeway/site-a.toml", tapAddress: MACAddress("02:00:5e:00:00:01")!, uptime: .seconds(133),
            devices: [.init(role: .bridge, name: "br0", state: .up), .init(role: .tap, name: "cw0", state: .up),
                      .init(role: .lan, name: "eth1", state: .up)],
            siteKey: Fixtures.peerKey
        )
        report.peers[0].up = up
        report.peers[0].roundTripSeconds = 0.000_412
        report.peers[0].secondsSinceLatestHandshake = 35
        while report.peers.count < peers {
            var another = report.peers[0]
            another.name = "site-\(report.peers.count + 2)"
            another.counters = Counters()
            report.peers.append(another)
        }
        if peers == 0 { report.peers = [] }
        return report
    }

    @Test func bytesReadInBinaryUnits() {
        #expect(HumanBytes.format(0) == "0 B")
        #expect(HumanBytes.format(512) == "512 B")
        #expect(HumanBytes.format(1024) == "1.0 KiB")
        #expect(HumanBytes.format(1536) == "1.5 KiB")
        #expect(HumanBytes.format(340 * 1024 * 1024) == "340 MiB")
        #expect(HumanBytes.format(UInt64(1.2 * 1024 * 1024 * 1024)) == "1.2 GiB")
        #expect(HumanBytes.format(1024 * 1024 - 10) == "1.0 MiB", "never 1024 KiB")
        #expect(HumanBytes.format(UInt64.max) == "16 EiB")
    }

    @Test func statusFitsInAboutTenLines() throws {
        var counters = Counters()
        counters.bytesFromPeer = UInt64(1.2 * 1024 * 1024 * 1024)
        counters.bytesToPeer = 340 * 1024 * 1024
        counters.drop(.replay)
        counters.drop(.replay)
        counters.drop(.badMAC1)
        let text = HumanReport.status(try Self.report(counters: counters))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count <= 11, "\(text)")
        #expect(lines[0] == "gateway site-a: key \(Fixtures.peerKey.short), listening on 198.18.0.1:4789, causewayd \(CausewayVersion.current) up 2m13s")
        #expect(lines[1] == "  bridge br0 up, tap cw0 up, lan eth1 up, 2 of 64 MACs")
        #expect(lines.contains("peer site-b: up"))
        #expect(lines.contains("  endpoint: \(Fixtures.peerEndpoint)"))
        #expect(lines.contains("  latest handshake: 35s ago"))
        #expect(lines.contains("  transfer: 1.2 GiB received, 340 MiB sent"))
        #expect(lines.contains("  rtt: 412µs, path MTU: 1280") || lines.contains { $0.hasPrefix("  rtt: 412µs, path MTU: ") })
        #expect(lines.contains("  drops: replay 2, bad-mac1 1") || lines.contains("  drops: bad-mac1 1, replay 2"))
    }

    @Test func statusLeavesOutZeroDrops() throws {
        let text = HumanReport.status(try Self.report())
        #expect(!text.contains("drops"))
        #expect(text.contains("transfer: 0 B received, 0 B sent"))
    }

    @Test func checkIsHealthyOnlyWithEveryPeerUp() throws {
        let up = StatusCheck(try Self.report(up: true))
        #expect(up.healthy && up.exitCode == 0)
        #expect(up.line == "site-a: OK: 1 of 1 peer up (site-b)")

        let down = StatusCheck(try Self.report(up: false))
        #expect(!down.healthy && down.exitCode == 2)
        #expect(down.line == "site-a: DOWN: site-b down; 0 of 1 peer up")

        var mixed = try Self.report(up: true, peers: 2)
        mixed.peers[1].up = false
        let one = StatusCheck(mixed)
        #expect(!one.healthy && one.exitCode == 2)
        #expect(one.line == "site-a: DOWN: site-3 down; 1 of 2 peers up")

        let none = StatusCheck(try Self.report(peers: 0))
        #expect(!none.healthy && none.exitCode == 2)
        #expect(none.line == "site-a: DOWN: no peer configured")
    }

    @Test func jsonHasTimesInSecondsAndPlainSlashes() throws {
        let json = String(decoding: ControlJSON.encode(try Self.report()), as: UTF8.self)
        #expect(json.contains(#""configuration":"/etc/causeway/site-a.toml""#))
        #expect(!json.contains(#"\/"#))
        #expect(json.contains(#""roundTripSeconds":0.000412"#))
        #expect(!json.contains("Milliseconds"))
        #expect(json.contains(#""instance":"site-a""#))
        #expect(json.contains(#""publicKey":"\#(Fixtures.peerKey.base64)""#))
    }
}

@Suite struct SocketChoiceTests {
    let directory = "/run/causeway"

    @Test func anInstanceNameMeansItsSocketInTheDirectory() {
        #expect(SocketChoice.resolve(socket: nil, instance: "site-b", directory: directory) { [] } == .path("/run/causeway/site-b.sock"))
        #expect(SocketChoice.resolve(socket: nil, instance: "site-b.sock", directory: directory) { [] } == .path("/run/causeway/site-b.sock"))
        #expect(SocketChoice.resolve(socket: nil, instance: "site-b", directory: "/tmp/x") { [] } == .path("/tmp/x/site-b.sock"))
    }

    @Test func anInstanceIsANameNotAPath() {
        for bad in ["../etc", "a/b", ".hidden", ""] {
            guard case .usage = SocketChoice.resolve(socket: nil, instance: bad, directory: directory, listing: { [] }) else {
                Issue.record("'\(bad)' accepted as an instance")
                continue
            }
        }
    }

    @Test func socketWinsAndBothIsAUsageError() {
        #expect(SocketChoice.resolve(socket: "/tmp/s.sock", instance: nil, directory: directory) { ["a.sock", "b.sock"] } == .path("/tmp/s.sock"))
        guard case .usage = SocketChoice.resolve(socket: "/tmp/s.sock", instance: "a", directory: directory, listing: { [] }) else {
            Issue.record("--socket with an instance accepted")
            return
        }
    }

    @Test func withoutANameTheOneSocketOrAUsageErrorListingThem() {
        #expect(SocketChoice.resolve(socket: nil, instance: nil, directory: directory) { ["site.sock", "notes.txt"] } == .path("/run/causeway/site.sock"))
        guard case .noDaemon(let none) = SocketChoice.resolve(socket: nil, instance: nil, directory: directory, listing: { ["notes.txt"] }) else {
            Issue.record("no socket is not 'no daemon'")
            return
        }
        #expect(none.contains("no control socket in /run/causeway"))
        guard case .usage(let several) = SocketChoice.resolve(socket: nil, instance: nil, directory: directory, listing: { ["site-c.sock", "site-b.sock"] }) else {
            Issue.record("several sockets is not a usage error")
            return
        }
        #expect(several.hasPrefix("several daemons run here: site-b, site-c "))
        #expect(several.contains("causewayctl status site-b"))
    }

    @Test func optionsBeforeTheSubcommandMoveBehindIt() {
        let subcommands = ["status", "peers", "macs", "explain", "metrics", "reload", "help"]
        #expect(LeadingOptions.rearranged(["--socket", "/tmp/a.sock", "status", "--json"], subcommands: subcommands)
                == ["status", "--json", "--socket", "/tmp/a.sock"])
        #expect(LeadingOptions.rearranged(["-i", "site-b", "peers"], subcommands: subcommands) == ["peers", "-i", "site-b"])
        #expect(LeadingOptions.rearranged(["--instance=site-b", "-i", "x", "macs"], subcommands: subcommands)
                == ["macs", "--instance=site-b", "-i", "x"])
        #expect(LeadingOptions.rearranged(["status", "-i", "site-b"], subcommands: subcommands) == ["status", "-i", "site-b"])
        #expect(LeadingOptions.rearranged(["--version"], subcommands: subcommands) == ["--version"])
        #expect(LeadingOptions.rearranged(["-i", "site-b"], subcommands: subcommands) == ["-i", "site-b"])
        #expect(LeadingOptions.rearranged(["--socket", "x", "stauts"], subcommands: subcommands) == ["stauts", "--socket", "x"],
                "a typo goes first, where did-you-mean looks")
    }
}

@Suite struct MACsAndExplainTests {
    @Test func macAddressesWithDashesOrCapitals() {
        let mac = MACAddress([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01])
        #expect(MACAddress("02:00:5e:10:00:01") == mac)
        #expect(MACAddress("02-00-5E-10-00-01") == mac)
        #expect(MACAddress("02:00:5E:10:00:01") == mac)
        #expect(MACAddress("02-00-5e-10-00-01") == mac)
        for bad in ["02-00:5e:10:00:01", "02:00:5e:10:00", "02:00:5e:10:00:0g", "+2:00:5e:10:00:01", "02--00-5e-10-00", "2:0:5e:10:0:1"] {
            #expect(MACAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func explainTakesAnIPOnTheWire() throws {
        let request = ControlRequest.explainIP("198.19.0.2")
        let line = String(decoding: request.line, as: UTF8.self)
        #expect(line.contains(#""ip":"198.19.0.2""#) && line.contains(#""request":"explain""#))
        #expect(try ControlRequest(line: Array(request.line.dropLast())) == request)
        #expect(try ControlRequest(line: Array(#"{"version":1,"request":"explain","mac":"02-00-5E-10-00-01"}"#.utf8))
                == .explain(MACAddress([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01])))
        #expect(request.needsMACTable)
    }

    static let surroundings = Surroundings(
        ports: [Fixtures.hostA: "eth1", Fixtures.hostB: "cw0"],
        ipAddresses: [Fixtures.hostA: ["fd00:19::1", "198.19.0.1"]],
        own: [MACAddress("02:00:5e:00:00:01")!: "tap cw0"]
    )

    @Test func macsShowPortIPAndTheGatewaysOwn() {
        let entries = Fixtures.snapshot().macEntries(Self.surroundings)
        let local = entries.first { $0.mac == Fixtures.hostA.description }
        #expect(local?.port == "eth1")
        #expect(local?.ipAddresses == ["198.19.0.1", "fd00:19::1"], "IPv4 first")
        #expect(local?.thisGateway == nil)
        let text = HumanReport.macs(entries)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("MAC                WHERE        PORT    IP"))
        #expect(lines.contains { $0.hasPrefix("02:00:00:00:00:0a  local        eth1    198.19.0.1,fd00:19::1  ") })
        #expect(lines.contains { $0.hasPrefix("02:00:00:00:00:0b  peer site-b  site-b  -") }, "a remote address's port is its peer")
        #expect(!lines.contains { $0.hasSuffix(" ") }, "no trailing blanks")
    }

    @Test func theGatewaysOwnAddressIsMarked() {
        var table = MACTable(capacity: 8, agingTime: .seconds(300))
        let tap = MACAddress("02:00:5e:00:00:01")!
        _ = table.learn(tap, at: .local, vlan: nil, now: Fixtures.start)
        let snapshot = StatusSnapshot(
            peers: [], hub: false, counters: Counters(), table: table, reassembler: Reassembler(slots: 2), now: Fixtures.start, includingMACTable: true
        )
        let entries = snapshot.macEntries(Self.surroundings)
        #expect(entries.first?.thisGateway == "tap cw0")
        #expect(HumanReport.macs(entries).contains("this gateway (tap cw0)"))
        let explanation = Explanation(mac: tap, snapshot: snapshot, surroundings: Self.surroundings)
        #expect(explanation.reason.hasPrefix("this gateway's own address (tap cw0); "))
    }

    @Test func explainByIPNamesTheAddressAndThePort() {
        let around = Self.surroundings
        #expect(around.mac(forIP: "198.19.0.1") == Fixtures.hostA)
        #expect(around.mac(forIP: "198.19.0.9") == nil)
        let explanation = Explanation(mac: Fixtures.hostA, snapshot: Fixtures.snapshot(), surroundings: around, ip: "198.19.0.1")
        #expect(explanation.verdict == .suppress)
        #expect(explanation.reason.contains("(bridge port eth1)"))
        #expect(HumanReport.explanation(explanation).hasPrefix("198.19.0.1 (02:00:00:00:00:0a): suppress\n"))
    }
}
