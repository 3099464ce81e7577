import CausewayCore
import Foundation
import Testing
@testable import CausewayControl

/// The data plane copies; the control side sorts and formats, only for `macs` and `explain`.
@Suite struct SnapshotTests {
    let start = Fixtures.start
    let identity = try! SiteIdentity(local: .random(), peer: Fixtures.peerKey)

    func snapshot(_ table: MACTable, at now: Moment, includingMACTable: Bool) -> StatusSnapshot {
        let peer = StatusSnapshot.Peer(
            name: Fixtures.peerName, slot: 0, link: PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: .seconds(5))),
            endpoint: Fixtures.peerEndpoint, pathMTU: PathMTUDiscovery(overIPv6: false), counters: Counters(), now: now
        )
        return StatusSnapshot(
            peers: [peer], hub: false, counters: Counters(), table: table, reassembler: Reassembler(slots: 2), now: now,
            includingMACTable: includingMACTable
        )
    }

    @Test func rowsAreSortedByAddressWithTheirAges() {
        var table = MACTable(capacity: 64, agingTime: .seconds(100))
        // Learned out of order, at different times; one moves, one ages out.
        let learned: [(UInt64, Int)] = [(0x0200_0000_0030, 5), (0x0200_0000_0010, 0), (0x0200_0000_0ff0, 40), (0x0200_0000_0020, 10)]
        for (raw, second) in learned {
            _ = table.learn(MACAddress(rawValue: raw), at: .local, vlan: nil, now: start + .seconds(second))
        }
        _ = table.learn(MACAddress(rawValue: 0x0200_0000_0020), at: .remote(peer: 0), vlan: 9, now: start + .seconds(30))
        let now = start + .seconds(102)

        let rows = snapshot(table, at: now, includingMACTable: true).macEntries()
        #expect(rows.map(\.mac) == ["02:00:00:00:00:20", "02:00:00:00:00:30", "02:00:00:00:0f:f0"], "sorted, the aged-out one gone")
        #expect(rows.map(\.ageSeconds) == [72, 97, 62])
        #expect(rows.map(\.expiresInSeconds) == [28, 3, 38])
        #expect(rows[0].location == "peer" && rows[0].peerEndpoint == Fixtures.peerEndpoint && rows[0].vlan == 9)
        #expect(rows[1].location == "local" && rows[1].peer == nil)
    }

    @Test func theTableIsCopiedOnlyWhenAskedFor() throws {
        var table = MACTable(capacity: 64, agingTime: .seconds(100))
        _ = table.learn(Fixtures.hostA, at: .local, vlan: nil, now: start)
        let summary = snapshot(table, at: start + .seconds(1), includingMACTable: false)
        #expect(summary.table == nil)
        #expect(summary.macTable.entries == 1 && summary.macTable.capacity == 64)

        let full = snapshot(table, at: start + .seconds(1), includingMACTable: true)
        _ = table.learn(Fixtures.hostB, at: .local, vlan: nil, now: start + .seconds(2))
        #expect(full.macEntries().map(\.mac) == [Fixtures.hostA.description], "the copy is the table as it was")
        #expect(full.macEntry(for: Fixtures.hostA)?.ageSeconds == 1)
        #expect(full.macEntry(for: Fixtures.hostB) == nil)

        // The snapshot's own JSON (the daemon's final log line) carries no table.
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(full)) as? [String: Any])
        #expect(Set(object.keys) == ["peers", "lanes", "hub", "counters", "macTable", "reassembly"])
    }

    @Test func onlyMacsAndExplainNeedTheTable() {
        #expect(ControlRequest.macs.needsMACTable)
        #expect(ControlRequest.explain(Fixtures.hostA).needsMACTable)
        #expect(!ControlRequest.status.needsMACTable)
        #expect(!ControlRequest.metrics.needsMACTable)
    }
}
