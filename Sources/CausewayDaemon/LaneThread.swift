import CausewayCore
import CausewayLinux
import Logging
import Synchronization

/// One thread that moves frames, a lane (CausewayCore's `Lane`): it alone drives its data
/// path (`DataPath`, which owns its MAC table, link state and counters) over its TAP queue
/// and UDP socket. The control plane talks to it through an eventfd and takes copies of its
/// state on request; what happened that an operator should read about is logged here, between
/// turns when the timers run (`DataPath.tend`), never per frame. `DataPlane` runs one per lane.
final class LaneThread: @unchecked Sendable {
    let path: DataPath
    let queue: TAPQueue
    let socket: UDPSocket
    let logger: Logger
    private let wakeup: EventFD

    // Shared with the control plane.
    private let stopRequested = Atomic<Bool>(false)
    private let snapshotRequested = Atomic<Bool>(false)
    private let macTableRequested = Atomic<Bool>(false)
    private let published = Mutex<(generation: UInt64, snapshot: StatusSnapshot?)>((0, nil))
    /// What the bridge saw on its LAN ports (LANWatcher), waiting for the next turn.
    private let sightings = Mutex<(seen: [BridgeFDB.Sighting], dumpedAt: Moment)?>(nil)
    private let sightingsWaiting = Atomic<Bool>(false)
    /// A reload's new peers, waiting for the next turn, and what applying them changed.
    private let reload = Mutex<(pending: (configuration: Configuration, identities: [SiteIdentity])?, applied: DataPath.PeerChanges?)>((nil, nil))
    private let reloadWaiting = Atomic<Bool>(false)
    private var thread: NamedThread?

    /// `socket` is bound already, in the lanes' order.
    init(
        configuration: Configuration, identities: [SiteIdentity], queue: TAPQueue, socket: UDPSocket, wakeup: EventFD, lane: Lane,
        board: LaneBoard?, logger: Logger
    ) {
        self.queue = queue
        self.socket = socket
        self.logger = logger
        self.wakeup = wakeup
        path = DataPath(configuration: configuration, identities: identities, lan: queue, wan: socket, lane: lane, board: board)
    }

    func start() {
        thread = NamedThread(name: "cw-lane\(path.lane.index)") { [self] in run() }
    }

    /// Stops the thread and waits for it to leave its loop.
    func stop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup.signal()
        thread?.join()
    }

    /// A fresh copy of the data plane's state, or nil when the thread does not answer in
    /// time. Blocks the calling thread (the control thread), never the data plane. The MAC
    /// table is copied only when `includingMACTable` (for `macs` and `explain`).
    func snapshot(timeout: Duration = .seconds(2), includingMACTable: Bool = false) -> StatusSnapshot? {
        var before = published.withLock { $0.generation }
        requestSnapshot(includingMACTable: includingMACTable)
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline {
            let (generation, snapshot) = published.withLock { ($0.generation, $0.snapshot) }
            if generation != before {
                guard includingMACTable, snapshot?.table == nil else { return snapshot }
                // Another caller's request was served first, without the table: ask again.
                before = generation
                requestSnapshot(includingMACTable: true)
            }
            Clock.sleep(for: .microseconds(200))
        }
        return nil
    }

    private func requestSnapshot(includingMACTable: Bool) {
        if includingMACTable { macTableRequested.store(true, ordering: .releasing) }
        snapshotRequested.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// Hands over what the bridge saw on its LAN ports (ages as of `dumpedAt`), and wakes the
    /// data plane: they are taken before the next frames are.
    func deliver(_ seen: [BridgeFDB.Sighting], dumpedAt: Moment) {
        sightings.withLock { $0 = (seen, dumpedAt) }
        sightingsWaiting.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// Has the data-plane thread apply a reloaded configuration's peers and live settings
    /// between two turns, and waits for it. Nil when the thread did not take it in time: it is
    /// then withdrawn, so what runs is what the caller believes runs. Once taken, it is
    /// applied within the turn, and waited for.
    func reconfigure(_ configuration: Configuration, identities: [SiteIdentity], timeout: Duration = .seconds(2)) -> DataPath.PeerChanges? {
        reload.withLock { $0 = ((configuration, identities), nil) }
        reloadWaiting.store(true, ordering: .releasing)
        wakeup.signal()
        let deadline = Clock.monotonic() + timeout
        while true {
            let (applied, withdrawn) = reload.withLock { state -> (DataPath.PeerChanges?, Bool) in
                if let applied = state.applied { return (applied, false) }
                guard Clock.monotonic() >= deadline, state.pending != nil else { return (nil, false) }
                state.pending = nil
                return (nil, true)
            }
            if let applied { return applied }
            if withdrawn { return nil }
            Clock.sleep(for: .microseconds(200))
        }
    }

    /// The last state the thread published; after `stop()`, its final state.
    var latestSnapshot: StatusSnapshot? {
        published.withLock { $0.snapshot }
    }

    // MARK: - The loop

    private func run() {
        var poller = PollSet()
        let woken = poller.watch(wakeup.descriptor)
        let fromPeer = poller.watch(socket.descriptor)
        let fromLAN = poller.watch(queue.descriptor)
        while !stopRequested.load(ordering: .acquiring) {
            var now = Clock.monotonic()
            poller.wait(until: path.tend(now: now, wallClock: Clock.wall, report: log), now: now)
            now = Clock.monotonic()

            if poller.isReady(woken) {
                wakeup.drain()
                // Another lane's request, a reload or a snapshot: lane 0 acts on it next.
                path.bringTimersForward()
            }
            // Before any frame of this turn: a claim must meet what the bridge saw.
            if sightingsWaiting.exchange(false, ordering: .acquiringAndReleasing), let delivered = sightings.withLock({ $0.take() }) {
                for sighting in delivered.seen {
                    path.noteSeenOnLAN(sighting.address, at: delivered.dumpedAt.earlier(by: sighting.age), now: now)
                }
            }
            if reloadWaiting.exchange(false, ordering: .acquiringAndReleasing), let new = reload.withLock({ $0.pending.take() }) {
                let changes = path.reconfigure(peers: new.configuration.peers, identities: new.identities, hub: new.configuration.hub)
                path.applyLiveSettings(new.configuration)
                reload.withLock { $0.applied = changes }
            }
            if snapshotRequested.exchange(false, ordering: .acquiringAndReleasing) {
                publishSnapshot(now: now, includingMACTable: macTableRequested.exchange(false, ordering: .acquiringAndReleasing))
            }
            if poller.isReady(fromPeer) {
                path.receiveFromPeer(now: now)
            }
            if poller.isReady(fromLAN) {
                path.forwardFromLAN(now: now)
            }
        }
        publishSnapshot(now: Clock.monotonic(), includingMACTable: false)
    }

    /// Logs what an operator wants in the journal: a peer coming and going, sessions made,
    /// its path MTU settling, keys that do not match.
    private func log(_ source: Peer?, _ events: LinkEvents) {
        guard let source else {
            if let key = events.strangerKey, let address = events.strangerAddress {
                logger.warning("a handshake from \(address) carries public key \(key.base64), which no [[peer]] names: if it comes from one of the peers, the public-key this configuration gives it is wrong (compare with `causewayd pubkey` on that gateway)")
            }
            return
        }
        let peer: Logger.Metadata = ["peer": "\(source.name)", "endpoint": "\(source.address.map { "\($0)" } ?? "-")"]
        let ours = path.localKey.publicKey.base64
        if events.handshakeGaveUp {
            // A gateway left at cipher = auto accepts every cipher: only a named one can be the cause.
            let ciphers = source.link.identity.ciphers
            let cipherHint = ciphers == .automatic ? "" : "; and its cipher setting must accept \(ciphers.accepted.map(\.rawValue).joined(separator: " or ")), the only one this site's accepts"
            logger.warning("no handshake with \(source.name) for \(source.link.timing.handshakeAttemptTime); trying again in \(source.link.timing.handshakePause) or at the next frame for it. Is it running, and does UDP reach it? Its configuration must name this site's public key \(ours), and this one names it as \(source.publicKey.base64)\(cipherHint)", metadata: peer)
        }
        if events.addressedToAnotherKey {
            logger.warning("handshakes from \(source.name)'s address are addressed to another public key than this site's: \(source.name)'s configuration must name \(ours) (`causewayd pubkey` here)", metadata: peer)
        }
        if events.responseNotAuthenticated {
            logger.warning("\(source.name)'s responses do not authenticate: the pre-shared keys differ; both sites' preshared-key-file must hold the same key, or neither site names one", metadata: peer)
        }
        if let theirs = events.noCommonCipher {
            logger.warning("\(source.name)'s handshakes accept \(theirs), none of what this gateway's cipher setting accepts (\(source.link.identity.ciphers)): set cipher to the same value on both sites, or leave it out (auto) on both", metadata: peer)
        }
        if events.establishedAsInitiator {
            logger.debug("session established", metadata: peer.merging(["role": "initiator"]) { $1 })
        }
        if events.establishedAsResponder {
            logger.debug("session established", metadata: peer.merging(["role": "responder"]) { $1 })
        }
        switch events.peerUp {
        case true?:
            logger.notice("peer up", metadata: peer)
        case false?:
            logger.warning("peer down: no authenticated message for \(source.link.timing.peerDownAfter)", metadata: peer)
        case nil: break
        }
        for index in 0..<events.refusedClaimCount {
            let claim = events.refusedClaims[index]
            let why = claim.reason == .macFlapping
                ? "it keeps moving between this LAN and the peer (a loop?); the peer's frames from it are dropped for \(MACTable.dampingTime)"
                : "it was on this LAN less than \(path.macHoldTime) ago; it stays on the LAN and the peer's frames from it are dropped"
            logger.warning("the peer claimed MAC \(claim.address): \(why)", metadata: peer)
        }
        if let size = events.pathMTUSettled {
            logger.notice("path MTU \(size): frames up to \(source.pathMTU.largestWholeFrame) bytes cross whole, larger ones as fragments", metadata: peer)
        }
    }

    func publishSnapshot(now: Moment, includingMACTable: Bool) {
        let snapshot = StatusSnapshot(path: path, now: now, includingMACTable: includingMACTable)
        published.withLock { $0 = ($0.generation &+ 1, snapshot) }
    }
}
