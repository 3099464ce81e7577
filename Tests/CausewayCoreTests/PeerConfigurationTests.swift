@testable import CausewayCore
import Testing

/// `[[peer]]` tables: names, keys, endpoints, and the topologies that are refused.
@Suite struct PeerConfigurationTests {
    static let keys = (0..<3).map { _ in PrivateKey.random().publicKey }

    static func text(hub: Bool = false, _ peers: [(name: String?, key: PublicKey, endpoint: String?, hub: Bool)]) -> String {
        let tables = peers.map { peer in
            (["[[peer]]"] + [
                peer.name.map { "name = \"\($0)\"" },
                "public-key = \"\(peer.key.base64)\"",
                peer.endpoint.map { "endpoint = \"\($0)\"" },
                peer.hub ? "hub = true" : nil,
            ].compactMap { $0 }).joined(separator: "\n")
        }
        return """
            bridge = "br0"
            lan-interface = "eth1"
            tap = "cw0"
            listen = "198.18.0.1:51820"
            private-key-file = "site.key"
            hub = \(hub)

            \(tables.joined(separator: "\n\n"))
            """
    }

    func problem(_ text: String) -> ConfigurationError? {
        do {
            _ = try Configuration(toml: text, file: "/etc/causeway/site.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func readsEveryPeerInOrder() throws {
        let configuration = try Configuration(toml: Self.text(hub: true, [
            ("site-b", Self.keys[0], "198.18.0.2:51820", false),
            ("site-c", Self.keys[1], nil, false),
        ]), file: "/etc/causeway/site.toml")
        #expect(configuration.hub)
        #expect(configuration.peers.map(\.name) == ["site-b", "site-c"])
        #expect(configuration.peers[0].endpoint == SocketEndpoint("198.18.0.2:51820"))
        #expect(configuration.peers[1].endpoint == nil, "a peer without endpoint only calls in")
    }

    @Test(arguments: [
        ("peer[2].name", [("b", 0, false), ("b", 1, false)], false, "also the name of peer 1"),
        ("peer[2].public-key", [("b", 0, false), ("c", 0, false)], false, "also the public key of peer 'b'"),
        ("hub", [("b", 0, true)], true, "two hubs"),
        ("peer[2].hub", [("b", 0, true), ("c", 1, true)], false, "receive it twice"),
        ("peer[1].hub", [("h", 0, true), ("c", 1, false)], false, "a spoke peers with its hub alone"),
    ])
    func refusesPeerListsThatCannotWork(key: String, peers: [(String, Int, Bool)], hub: Bool, message: String) throws {
        let text = Self.text(hub: hub, peers.enumerated().map { index, peer in
            (peer.0, Self.keys[peer.1], "198.18.0.\(index + 2):51820", peer.2)
        })
        let error = try #require(problem(text))
        #expect(error.key == key)
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func aPeerTableNeedsANameAndAGoodOne() throws {
        let unnamed = try #require(problem(Self.text([(nil, Self.keys[0], nil, false)])))
        #expect(unnamed.key == "peer.name" && unnamed.description.contains("missing"))
        let spaced = try #require(problem(Self.text([("site b", Self.keys[0], nil, false)])))
        #expect(spaced.key == "peer.name" && spaced.description.contains("not 1 to 32 letters"))
    }

    @Test func anEmptyListOrAnUnknownPeerKeyIsRefused() throws {
        let empty = try #require(problem(Self.text([]) + "\npeer = []\n"))
        #expect(empty.key == "peer" && empty.description.contains("at least one peer"), "\(empty)")
        let typo = try #require(problem(Self.text([("b", Self.keys[0], nil, false)]) + "\nendpont = \"198.18.0.2:1\"\n"))
        #expect(typo.key == "peer.endpont", "\(typo)")
    }
}

@Suite struct ReloadRulesTests {
    @Test func everyKeyButThePeersIsEitherLiveOrNot() {
        let listed = ReloadRules.keys.map(\.key)
        #expect(Set(listed).count == listed.count, "each key once")
        #expect(Set(listed) == Set(Configuration.Key.allCases).subtracting([.peer]))
    }

    @Test func aChangedKeyIsSortedIntoLiveOrRestart() throws {
        let old = try Configuration(toml: PeerConfigurationTests.text([("b", PeerConfigurationTests.keys[0], nil, false)]), file: "/etc/causeway/site.toml")
        var new = old
        new.keepaliveInterval = .seconds(9)
        new.tap = "cw9"
        #expect(ReloadRules.liveKeysChanged(from: old, to: new) == ["keepalive-interval"])
        #expect(ReloadRules.keysThatCannotChangeLive(from: old, to: new) == ["'tap'"])
        #expect(ReloadRules.liveKeysChanged(from: old, to: old).isEmpty && ReloadRules.keysThatCannotChangeLive(from: old, to: old).isEmpty)
    }
}
