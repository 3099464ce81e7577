/// Finds, in-band, the largest IP packet that crosses the path to the peer with the
/// don't-fragment bit set, and keeps checking it: authenticated probes of a chosen size that
/// the peer acknowledges. ICMP is never needed, so a WAN that filters it changes nothing.
///
/// Sizes are whole outer IP packets (IP and UDP headers included), as an MTU is counted.
/// A binary search runs between the size known to pass and the largest the local device
/// takes (`sendFailed` learns that from EMSGSIZE at once); once settled, the size in use is
/// re-validated every few seconds, and a full search upward runs periodically.
///
/// Loss is not a smaller path. A probe counts as lost only when the peer was heard from
/// after it was sent (anything authenticated: a keepalive's reply, a frame): when the peer
/// is silent too, it is down or the WAN is, and the size says nothing. A validation is
/// retried at once before it counts as failed, and only several failed validations in a
/// row shrink the path: with 20 % of datagrams lost (36 % of probe round trips) the odds of
/// a false shrink in two minutes are about one in two hundred, while a real black hole is
/// found within about ten seconds.
public struct PathMTUDiscovery: Sendable {
    /// Every path is assumed to carry this much: IPv6's minimum link MTU.
    public static let floor = 1280
    /// Never probe above what a jumbo frame needs.
    public static let ceiling = WireFormat.maximumDatagramLength + 48
    static let attemptsPerSize = 2
    static let minimumProbeTimeout = Duration.milliseconds(150)
    static let validationInterval = Duration.seconds(2)
    /// Probes of one validation, sent one after the other's timeout, before it fails.
    static let attemptsPerValidation = 3
    /// Consecutive failed validations before the path counts as shrunk.
    static let validationFailuresAllowed = 3
    /// How often a search upward runs, counted from the last one: a settle after a shrink
    /// does not put it off.
    static let researchInterval = Duration.seconds(120)

    /// IP and UDP headers: 28 bytes over IPv4, 48 over IPv6.
    public let headerOverhead: Int
    /// The largest packet known to cross; what the data path sizes datagrams by.
    public private(set) var confirmed = PathMTUDiscovery.floor
    /// True while a search is under way.
    public var isSearching: Bool { phase == .searching }

    private enum Phase: Equatable { case idle, searching, settled }
    private var phase = Phase.idle
    private var low = PathMTUDiscovery.floor
    private var high = PathMTUDiscovery.ceiling
    private var outstanding: (size: Int, sentAt: Moment, attempt: Int)?
    private var lastValidation = Moment.zero
    private var validationFailures = 0
    private var lastResearch = Moment.zero
    /// A validation probe timed out while the peer was silent: its verdict waits for the peer.
    private var awaitingPeer = false
    /// A small message to the peer (a keepalive) would bring the verdict now: taken by
    /// `takePeerReplyRequest`, once per probe waiting.
    private var wantsPeerReply = false

    /// Whether to send the peer something it answers, so that a lost probe can be judged.
    public mutating func takePeerReplyRequest() -> Bool {
        defer { wantsPeerReply = false }
        return wantsPeerReply
    }

    public init(overIPv6: Bool) {
        headerOverhead = overIPv6 ? 48 : 28
    }

    /// The largest UDP payload of one datagram.
    public var largestDatagram: Int { confirmed - headerOverhead }
    /// The largest Ethernet frame that travels whole in one data message.
    public var largestWholeFrame: Int { largestDatagram - WireFormat.dataOverhead }

    /// Starts a search from scratch (first session, or the path may have changed). A search
    /// with no lower limit is a search upward, which `researchInterval` counts from.
    public mutating func restart(now: Moment, below limit: Int = PathMTUDiscovery.ceiling) {
        if limit >= Self.ceiling { lastResearch = now }
        phase = .searching
        low = Self.floor
        high = max(Self.floor, min(limit, Self.ceiling))
        confirmed = min(confirmed, high)
        if confirmed > low { low = confirmed }
        outstanding = nil
        awaitingPeer = false
    }

    /// The size of the probe to send now (a whole IP packet), if one is due. `peerHeardAt`
    /// is when the peer's latest authenticated message arrived (nil: unknown, taken as
    /// heard): a probe not answered while the peer was silent is not counted as lost.
    public mutating func probeDue(now: Moment, roundTripTime: Duration?, peerHeardAt: Moment? = nil) -> Int? {
        let timeout = Self.probeTimeout(roundTripTime)
        switch phase {
        case .idle:
            restart(now: now)
            return probeDue(now: now, roundTripTime: roundTripTime, peerHeardAt: peerHeardAt)
        case .searching:
            if let probe = outstanding {
                guard now.since(probe.sentAt) >= timeout else { return nil }
                if probe.attempt + 1 < Self.attemptsPerSize {
                    outstanding = (probe.size, now, probe.attempt + 1)
                    return probe.size
                }
                high = probe.size - 1
                outstanding = nil
            }
            if low >= high {
                settle(now: now)
                return nil
            }
            let size = (low + high + 1) / 2
            outstanding = (size, now, 0)
            return size
        case .settled:
            if let probe = outstanding {
                guard now.since(probe.sentAt) >= timeout else { return nil }
                if let heard = peerHeardAt, heard <= probe.sentAt {
                    // Nothing at all came back since: judged once the peer is heard again,
                    // as a silent peer says nothing of sizes. A keepalive asks it at once.
                    if !awaitingPeer { wantsPeerReply = true }
                    awaitingPeer = true
                    return nil
                }
                awaitingPeer = false
                if probe.attempt + 1 < Self.attemptsPerValidation {
                    outstanding = (probe.size, now, probe.attempt + 1)
                    return probe.size
                }
                outstanding = nil
                validationFailures += 1
                if validationFailures >= Self.validationFailuresAllowed {
                    // The size in use failed validation after validation while the peer
                    // answered everything else: the path shrank.
                    confirmed = Self.floor
                    restart(now: now, below: probe.size)
                    return probeDue(now: now, roundTripTime: roundTripTime, peerHeardAt: peerHeardAt)
                }
            }
            if now.since(lastResearch) >= Self.researchInterval {
                restart(now: now)
                return probeDue(now: now, roundTripTime: roundTripTime, peerHeardAt: peerHeardAt)
            }
            guard now.since(lastValidation) >= Self.validationInterval else { return nil }
            lastValidation = now
            outstanding = (confirmed, now, 0)
            return confirmed
        }
    }

    /// The peer acknowledged a probe of `size`.
    public mutating func acknowledged(size: Int, now: Moment) {
        guard let probe = outstanding, probe.size == size else { return }
        outstanding = nil
        awaitingPeer = false
        switch phase {
        case .searching:
            low = size
            confirmed = max(confirmed, size)
            if low >= high { settle(now: now) }
        case .settled:
            validationFailures = 0
        case .idle:
            break
        }
    }

    /// The kernel refused to send a datagram making a packet of `size` (EMSGSIZE): the local
    /// device takes less. Learned at once, with no probe lost.
    public mutating func sendFailed(size: Int, now: Moment) {
        if size <= confirmed {
            confirmed = Self.floor
            restart(now: now, below: size - 1)
        } else if phase == .searching {
            high = min(high, size - 1)
            if outstanding?.size == size { outstanding = nil }
        }
    }

    /// When `probeDue` may next have something to send.
    public func nextDeadline(now: Moment, roundTripTime: Duration?) -> Moment {
        // Waiting for the peer: its reply to the next keepalive wakes the data plane anyway.
        if awaitingPeer { return now + Self.validationInterval }
        if let probe = outstanding { return probe.sentAt + Self.probeTimeout(roundTripTime) }
        switch phase {
        case .idle, .searching: return now
        case .settled: return min(lastValidation + Self.validationInterval, lastResearch + Self.researchInterval)
        }
    }

    private mutating func settle(now: Moment) {
        phase = .settled
        confirmed = low
        outstanding = nil
        validationFailures = 0
        lastValidation = now
    }

    private static func probeTimeout(_ roundTripTime: Duration?) -> Duration {
        max(minimumProbeTimeout, (roundTripTime ?? .milliseconds(250)) * 3)
    }
}
