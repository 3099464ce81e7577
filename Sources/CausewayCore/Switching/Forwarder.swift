/// The switching decision for one gateway: which frames from the LAN need to cross the WAN.
///
/// Frames from the peer are always handed to the local bridge, which does its own switching;
/// the forwarder only learns from them.
public struct Forwarder: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Destination known to be behind the peer.
        case sendToPeer
        /// Broadcast, multicast or unknown unicast: sent to the peer, counted as flooded.
        case flood
        /// Destination learned as local: the bridge already delivered it, the WAN never sees it.
        case suppress
    }

    public private(set) var table: MACTable

    public init(table: MACTable) {
        self.table = table
    }

    /// Decides for a frame that the bridge handed to the TAP.
    public mutating func frameFromLAN(_ header: EthernetHeader, now: Moment, counters: inout Counters) -> Decision {
        count(table.learn(header.source, at: .local, vlan: header.vlan, now: now), into: &counters)
        let location = header.destination.isGroup ? nil : table.lookup(header.destination, now: now)?.location
        return Self.decision(for: header.destination, learnedAt: location)
    }

    /// The decision for a frame to `destination`, given where the table has it (nil: unknown).
    /// `causewayctl explain` asks the same question, so both answer alike.
    @inline(__always)
    public static func decision(for destination: MACAddress, learnedAt location: MACLocation?) -> Decision {
        if destination.isGroup { return .flood }
        switch location {
        case .local: return .suppress
        case .remote: return .sendToPeer
        case nil: return .flood
        }
    }

    /// Learns from a frame that arrived from `peer`.
    public mutating func frameFromPeer(_ header: EthernetHeader, peer: Int, now: Moment, counters: inout Counters) {
        count(table.learn(header.source, at: .remote(peer: peer), vlan: header.vlan, now: now), into: &counters)
    }

    public mutating func removeExpired(now: Moment) {
        table.removeExpired(now: now)
    }

    private func count(_ outcome: MACTable.LearnOutcome, into counters: inout Counters) {
        switch outcome {
        case .moved: counters.macMoves &+= 1
        case .tableFull: counters.macTableFull &+= 1
        case .learned, .refreshed, .ignored: break
        }
    }
}
