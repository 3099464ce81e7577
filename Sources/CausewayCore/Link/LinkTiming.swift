/// The timers of a link to a peer.
public struct LinkTiming: Sendable, Equatable {
    /// How often a keepalive goes out while a session is up.
    public var keepaliveInterval: Duration
    /// How long an initiation waits for its response before a new one is sent (plus up to
    /// `retryJitter`, so two gateways that started together do not keep colliding).
    public var handshakeRetry: Duration = .seconds(2)
    public var retryJitter: Duration = .milliseconds(333)
    /// Initiations stop after this long without a session, until a frame waits to be sent
    /// or `handshakePause` has passed.
    public var handshakeAttemptTime: Duration = .seconds(90)
    /// After giving up, initiations start again this much later even with no frame waiting:
    /// while the peer is down the TAP has no carrier, so no frame comes, and two gateways
    /// that both gave up during an outage must still find each other after it.
    public var handshakePause: Duration = .seconds(60)
    /// The initiator of a session replaces it after this long.
    public var rekeyAfter: Duration = .seconds(120)
    /// No message of a session is sent or accepted after this long.
    public var rejectAfter: Duration = .seconds(180)

    public init(keepaliveInterval: Duration) {
        self.keepaliveInterval = keepaliveInterval
    }

    /// The peer counts as down once no authenticated message arrived for this long.
    public var peerDownAfter: Duration { keepaliveInterval * 3 + .seconds(1) }

    /// A responder replaces a session only if its initiator has not, so both rarely race.
    var responderRekeyAfter: Duration { rekeyAfter + .seconds(30) }

    /// Without a new session for this long, every key is erased (WireGuard's 3 × reject-after).
    public var eraseKeysAfter: Duration { rejectAfter * 3 }
}

/// A token bucket: at most `burst` events at once, refilled at `perSecond`.
public struct RateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    private var tokens: Double
    private var last: Moment

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
        tokens = burst
        last = .zero
    }

    public mutating func allow(now: Moment) -> Bool {
        tokens = min(burst, tokens + now.since(last).secondsValue * perSecond)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
