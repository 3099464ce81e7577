import CausewayCore
import CausewayLinux
import Logging

/// The threads that move frames: one lane (`LaneThread`) per TAP queue, each with its own UDP
/// socket on the listen port. Lane 0 runs the handshakes and posts the sessions on a board
/// the other lanes read (LaneBoard). To the rest of the daemon this is one data plane: a
/// request goes to every lane, and what they answer is added up.
final class DataPlane: @unchecked Sendable {
    let lanes: [LaneThread]
    /// Lane 0's data path: the site's keys and the peers' links.
    var path: DataPath { lanes[0].path }

    init(configuration: Configuration, identities: [SiteIdentity], tap: TAPDevice, logger: Logger) throws {
        let count = tap.queues.count
        if count > 1 {
            // A shared port takes any socket of the same user that asks: first make sure no
            // one holds it, as binding it alone would.
            _ = try UDPSocket(binding: configuration.listen, sendSlotSize: WireFormat.maximumDatagramLength)
        }
        // Bound in the lanes' order: the steering program counts the port's sockets so.
        let sockets = try (0..<count).map { _ in
            try UDPSocket(binding: configuration.listen, sendSlotSize: DataPath.sendSlotSize, sharingPort: count > 1)
        }
        if count > 1 { try sockets[0].steerByLane(lanes: count) }
        // Lane 0 is woken when another lane asks it for something (LaneBoard.Request).
        let wakeups = try (0..<count).map { _ in try EventFD() }
        let board = count > 1 ? LaneBoard(laneCount: count, wakePrimary: { [primary = wakeups[0]] in primary.signal() }) : nil
        lanes = (0..<count).map { index in
            LaneThread(
                configuration: configuration, identities: identities, queue: tap.queues[index], socket: sockets[index],
                wakeup: wakeups[index], lane: Lane(index: index, of: count), board: board, logger: logger
            )
        }
        if !tap.acceptsUDPSegmentation {
            logger.info("\(tap.name) takes no UDP segmentation (Linux before 6.2): datagrams from the peer are written to it one by one")
        }
        if path.carrierFailed {
            logger.warning("\(tap.name)'s carrier cannot follow the peers (TUNSETCARRIER refused): the bridge keeps sending into it while every peer is down")
        }
    }

    func start() {
        for lane in lanes { lane.start() }
    }

    /// Stops every lane and waits for each to leave its loop.
    func stop() {
        for lane in lanes { lane.stop() }
    }

    /// A fresh copy of the state of every lane, added up; nil when a lane does not answer in
    /// time. With several lanes each copies its MAC table, since the table the report counts
    /// is the union of theirs.
    func snapshot(timeout: Duration = .seconds(2), includingMACTable: Bool = false) -> StatusSnapshot? {
        guard lanes.count > 1 else { return lanes[0].snapshot(timeout: timeout, includingMACTable: includingMACTable) }
        var taken: [StatusSnapshot] = []
        for lane in lanes {
            guard let snapshot = lane.snapshot(timeout: timeout, includingMACTable: true) else { return nil }
            taken.append(snapshot)
        }
        return StatusSnapshot.combining(taken, includingMACTable: includingMACTable)
    }

    /// What the bridge saw on its LAN ports, for every lane: each checks the peer's claims
    /// against it.
    func deliver(_ seen: [BridgeFDB.Sighting], dumpedAt: Moment) {
        for lane in lanes { lane.deliver(seen, dumpedAt: dumpedAt) }
    }

    /// Applies a reloaded configuration on every lane and returns what changed in the peers,
    /// or nil when lane 0 did not take it in time (then nothing changed). Lane 0 applies the
    /// peers and posts them; the other lanes mirror its peers from the post and apply the
    /// live settings here (a lane that does not take them in time is logged, and keeps its
    /// old ones until the next reload).
    func reconfigure(_ configuration: Configuration, identities: [SiteIdentity], timeout: Duration = .seconds(2)) -> DataPath.PeerChanges? {
        guard let changes = lanes[0].reconfigure(configuration, identities: identities, timeout: timeout) else { return nil }
        for lane in lanes.dropFirst() where lane.reconfigure(configuration, identities: identities, timeout: timeout) == nil {
            lane.logger.warning("data-plane thread \(lane.path.lane.index) did not take the reload's settings within \(timeout); its peers follow lane 0 all the same")
        }
        return changes
    }

    /// The last state every lane published, added up; after `stop()`, the final state.
    var latestSnapshot: StatusSnapshot? {
        let latest = lanes.compactMap(\.latestSnapshot)
        guard latest.count == lanes.count else { return nil }
        return lanes.count == 1 ? latest[0] : StatusSnapshot.combining(latest, includingMACTable: false)
    }
}
