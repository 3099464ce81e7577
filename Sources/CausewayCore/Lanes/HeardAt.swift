import Synchronization

/// When a lane other than 0 last opened a message of a peer: lane 0 takes it as having heard
/// from the peer itself (PeerLink.isUp), so that a peer whose frames all cross on other lanes
/// is not taken for down because a few keepalives were lost. Written a few times a second at
/// most (Peer.heardNotedAt), read once a turn.
final class HeardAt: Sendable {
    /// How often a lane writes it while messages keep coming.
    static let interval = Duration.milliseconds(100)
    private let nanoseconds = Atomic<UInt64>(0)

    func note(_ moment: Moment) {
        nanoseconds.store(moment.nanoseconds, ordering: .relaxed)
    }

    var latest: Moment? {
        let value = nanoseconds.load(ordering: .relaxed)
        return value == 0 ? nil : Moment(nanoseconds: value)
    }
}
