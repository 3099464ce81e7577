/// One of a gateway's data-plane threads ("lanes") and how many there are. Each lane has its
/// own TAP queue and UDP socket; the kernel keeps a flow on one queue, and a datagram reaches
/// the lane its sender's lane number (the top byte of its counter) names, so a flow crosses on
/// one lane at each end and no state on the frame path has two writers. (Between gateways of
/// different lane counts a flow may move once, after its first reply: the TAP hands a flow to
/// the queue its frames were last written to.) Lane 0 (the primary) runs handshakes, timers
/// and path MTU discovery and posts the peers and their sessions for the others (LaneBoard);
/// every lane switches and seals frames with its own MAC table and counter space.
public struct Lane: Sendable, Equatable {
    /// The most lanes a gateway runs, and the most sending lanes a session keeps replay
    /// windows for.
    public static let maximumCount = 16
    /// A gateway with one data-plane thread.
    public static let only = Lane(index: 0, of: 1)

    public let index: Int
    public let count: Int

    public init(index: Int, of count: Int) {
        precondition(count >= 1 && count <= Self.maximumCount && index >= 0 && index < count, "lane \(index) of \(count)")
        self.index = index
        self.count = count
    }

    /// Lane 0: handshakes, timers, path MTU, carrier and the sessions every lane uses.
    public var isPrimary: Bool { index == 0 }

    /// Whether a message a peer sealed in its lane `senderLane` is this lane's to open: the
    /// kernel steers it here by the same rule (UDPSocket's steering program), and the replay
    /// window of that sending lane is this lane's alone.
    @inline(__always)
    public func opens(senderLane: Int) -> Bool {
        senderLane % count == index
    }

    /// How many lanes a machine with `cores` processors runs when the configuration leaves it
    /// to the machine: half of them, up to 8, leaving the rest to the kernel's side of the
    /// frames (the NIC, the bridge, the TAP, UDP). On 2 cores a second lane measured 13–32 %
    /// slower (docs/performance.md, "More than one core"); above 2 it is not measured.
    public static func suggestedCount(cores: Int) -> Int {
        min(max(1, cores / 2), 8)
    }
}
