import Synchronization

/// An address one lane learned, for the others: each lane keeps a MAC table of its own, and
/// what reaches one lane (a host behind the peer, a host on this LAN) is passed on to the
/// others, which take it at the start of their next batch.
public struct LearnedAddress: Sendable {
    public let address: MACAddress
    public let location: MACLocation
    public let vlan: UInt16?
    /// For an address behind a peer: which peer of its slot (Peer.incarnation), so that
    /// what was learned of a peer a reload removed never lands on the next one in its slot.
    public let incarnation: UInt64
}

/// A fixed ring from one lane to another: one thread pushes, one thread takes, no lock. Full,
/// it refuses what is pushed, and the other lane learns that address from its own frames
/// instead, as it would with no ring at all.
final class LearnRing: @unchecked Sendable {
    static let capacity = 4096
    private let slots: UnsafeMutablePointer<LearnedAddress>
    /// Counts that only grow: the producer's next slot and the consumer's.
    private let written = Atomic<Int>(0)
    private let taken = Atomic<Int>(0)

    init() {
        slots = .allocate(capacity: Self.capacity)
    }

    deinit {
        // LearnedAddress holds nothing that needs deinitializing.
        slots.deallocate()
    }

    /// The producing lane: false when the ring is full.
    @discardableResult
    func push(_ learned: LearnedAddress) -> Bool {
        let next = written.load(ordering: .relaxed)
        guard next - taken.load(ordering: .acquiring) < Self.capacity else { return false }
        (slots + next % Self.capacity).initialize(to: learned)
        written.store(next + 1, ordering: .releasing)
        return true
    }

    /// The consuming lane: hands each address pushed since the last call to `body`.
    func drain(_ body: (LearnedAddress) -> Void) {
        var next = taken.load(ordering: .relaxed)
        let end = written.load(ordering: .acquiring)
        guard next != end else { return }
        while next < end {
            body(slots[next % Self.capacity])
            next += 1
        }
        taken.store(next, ordering: .releasing)
    }
}
