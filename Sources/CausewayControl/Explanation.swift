import CausewayCore

/// The answer to `explain MAC`: where a frame from this site's LAN to that address goes now,
/// and why. The verdict is the forwarder's own decision, from the same table state.
public struct Explanation: Codable, Equatable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        /// Sent to the peer the address was learned behind.
        case sendToPeer = "send-to-peer"
        /// Sent to every peer because the address is a group address or unknown.
        case flood
        /// Kept off the WAN: the address is on this site's LAN.
        case suppress
    }

    public var mac: String
    /// The IP address asked about, when the question named one (looked up in the gateway's
    /// neighbour table).
    public var ip: String?
    public var verdict: Verdict
    public var reason: String
    /// The table entry behind the verdict, when there is one.
    public var entry: StatusSnapshot.MACEntry?

    public init(mac: MACAddress, snapshot: StatusSnapshot, surroundings: Surroundings = Surroundings(), ip: String? = nil) {
        self.mac = mac.description
        self.ip = ip
        let entry = mac.isGroup ? nil : snapshot.macEntry(for: mac).map { surroundings.annotated($0) }
        self.entry = entry
        switch Forwarder.decision(for: mac, learnedAt: entry?.macLocation) {
        case .flood: verdict = .flood
        case .sendToPeer: verdict = .sendToPeer
        case .suppress: verdict = .suppress
        }

        let learned = entry.map { entry in
            let vlan = entry.vlan.map { " on VLAN \($0)" } ?? ""
            return "\(vlan), learned \(HumanDuration.format(seconds: entry.ageSeconds)) ago, expires in \(HumanDuration.format(seconds: entry.expiresInSeconds))"
        } ?? ""
        switch verdict {
        case .flood where mac.isBroadcast:
            reason = "broadcast: sent to every peer that is up, and the bridge floods it on this LAN"
        case .flood where mac.isGroup:
            reason = "multicast (group bit set): sent to every peer that is up, and the bridge floods it on this LAN"
        case .flood:
            reason = "not in the MAC table: flooded to every peer as unknown unicast until a frame from it is seen"
        case .sendToPeer:
            let peer = "\(entry?.peerName ?? "?")" + (entry?.peerEndpoint.map { " (\($0))" } ?? "")
            reason = "behind the peer \(peer)\(learned): sent to that peer only"
        case .suppress:
            let port = entry?.port.map { " (bridge port \($0))" } ?? ""
            reason = "on this site's LAN\(port)\(learned): the bridge delivers it here; a copy reaching the TAP is dropped and counted as suppressed"
        }
        if let own = surroundings.own[mac] {
            reason = "this gateway's own address (\(own)); " + reason
        }
    }
}
