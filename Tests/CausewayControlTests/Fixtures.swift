import CausewayCore

/// A daemon's state with host A on the local LAN and host B behind the peer, built through
/// the real MAC table and link types rather than by hand.
enum Fixtures {
    static let hostA = MACAddress([2, 0, 0, 0, 0, 0xA])
    static let hostB = MACAddress([2, 0, 0, 0, 0, 0xB])
    static let start = Moment(nanoseconds: 1_000_000_000)
    static let peerEndpoint = "198.18.0.2:4789"
    static let peerKey = PrivateKey.random().publicKey
    static let peerName = "site-b"

    static func snapshot(counters: Counters = Counters()) -> StatusSnapshot {
        var table = MACTable(capacity: 64, agingTime: .seconds(300))
        _ = table.learn(hostA, at: .local, vlan: nil, now: start)
        _ = table.learn(hostB, at: .remote(peer: 0), vlan: 100, now: start + .seconds(10))
        let identity = try! SiteIdentity(local: .random(), peer: peerKey)
        let link = PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: .seconds(5)))
        let now = start + .seconds(20)
        let peer = StatusSnapshot.Peer(
            name: peerName, slot: 0, link: link, endpoint: peerEndpoint, pathMTU: PathMTUDiscovery(overIPv6: false), counters: counters, now: now
        )
        return StatusSnapshot(
            peers: [peer], hub: false, counters: counters, table: table, reassembler: Reassembler(slots: 2), now: now, includingMACTable: true
        )
    }

    static func configuration() throws -> Configuration {
        try Configuration(toml: """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.1:4789"
            private-key-file = "site.key"

            [peer]
            public-key = "\(peerKey.base64)"
            endpoint = "198.18.0.2:4789"
            """, file: "/etc/causeway/site.toml")
    }
}
