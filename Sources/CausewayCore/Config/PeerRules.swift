/// What a list of peers must satisfy as a whole: each one named and keyed once, reachable
/// from the listen address's family, and no topology that loops or duplicates floods.
enum PeerRules {
    static let maximumNameLength = 32

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumNameLength
            && name.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func check(_ peers: [PeerConfiguration], hub: Bool, listen: SocketEndpoint, file: String) throws(ConfigurationError) {
        func key(_ index: Int, _ field: Configuration.PeerKey) -> String {
            peers.count == 1 ? "peer.\(field.rawValue)" : "peer[\(index + 1)].\(field.rawValue)"
        }
        for (index, peer) in peers.enumerated() {
            if let earlier = peers[..<index].firstIndex(where: { $0.name == peer.name }) {
                throw ConfigurationError(file: file, key: key(index, .name), problem: "'\(peer.name)' is also the name of peer \(earlier + 1); each peer needs its own name")
            }
            if let earlier = peers[..<index].first(where: { $0.publicKey == peer.publicKey }) {
                throw ConfigurationError(file: file, key: key(index, .publicKey), problem: "is also the public key of peer '\(earlier.name)'; a peer is its key, so each is listed once")
            }
            guard let endpoint = peer.endpoint else { continue }
            if listen.isIPv6 != endpoint.isIPv6, !(listen.isIPv6 && listen.isUnspecified) {
                throw ConfigurationError(file: file, key: key(index, .endpoint), problem: "'\(endpoint)' is not of the listen address's family (\(listen)); listen on [::] to reach both")
            }
            if endpoint.isUnspecified {
                throw ConfigurationError(file: file, key: key(index, .endpoint), problem: "'\(endpoint)' is the unspecified address; name the peer gateway's address")
            }
        }
        let hubs = peers.filter(\.isHub)
        if hub, let other = hubs.first {
            throw ConfigurationError(file: file, key: Configuration.Key.hub.rawValue, problem:
                "this gateway is a hub and so is its peer '\(other.name)': two hubs forward each other's floods back and forth, a loop; make one of them a spoke")
        }
        if !hub, let only = hubs.first, peers.count > 1, hubs.count == 1 {
            throw ConfigurationError(file: file, key: key(peers.firstIndex { $0 == only }!, .hub), problem:
                "'\(only.name)' is a hub, so this gateway is its spoke, and a spoke peers with its hub alone: another peer would send its floods both directly and through the hub, twice; list only '\(only.name)', or make every site a peer of every other and no one a hub")
        }
        if !hub, hubs.count > 1 {
            throw ConfigurationError(file: file, key: key(peers.firstIndex { $0 == hubs[1] }!, .hub), problem:
                "'\(hubs[0].name)' and '\(hubs[1].name)' are both hubs: each would forward every flood to this spoke, which would receive it twice; peer with one hub")
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
