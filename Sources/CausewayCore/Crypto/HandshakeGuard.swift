@preconcurrency import Crypto

/// What a handshake message must get through before it may cost a Diffie-Hellman, cheapest
/// check first:
///
/// 1. mac1 under our public key (an HMAC): only someone who knows our public key can send
///    anything that costs more. A message with the mac1 of our *peer's* key is one of our
///    own coming back: counted as an echo.
/// 2. Under load (more than `loadThreshold` messages passed mac1 in the last second), mac2
///    under the cookie of the source's address: a sender must have received our cookie
///    reply at that address, so a spoofed flood cannot pass. Without it, a cookie reply.
/// 3. A budget of handshakes per data-plane turn, so that forwarding never waits behind
///    more than a few Diffie-Hellmans, then a token bucket per source address (per /64 for
///    IPv6, since one host commonly holds the whole /64).
///
/// A value: the data plane owns it and drives it with the time.
public struct HandshakeGuard: Sendable {
    public enum Verdict: Equatable, Sendable {
        case proceed
        case drop(DropReason)
        /// Under load and without a valid mac2: answer with a cookie reply, do nothing else.
        case sendCookie
    }

    /// Handshake messages past mac1 in one second above which the guard is under load. One
    /// peer sends one initiation per retry interval; a burst of this size is an attack.
    public static let loadThreshold = 16
    /// How long the guard stays under load after the threshold was crossed.
    public static let loadHold = Duration.seconds(1)
    /// Handshakes that may cost Diffie-Hellman in one turn of the data plane.
    public static let perTurnBudget = 4
    /// WireGuard's limit: 20 handshake messages a second from one address, 5 at once.
    public static let perSourceRate = 20.0
    public static let perSourceBurst = 5.0
    /// How long a cookie secret lives, and so how long a cookie is good for.
    public static let cookieLifetime = Duration.seconds(120)
    static let sourceSlots = 1024

    private var windowStart = Moment.zero
    private var passedInWindow = 0
    private var underLoadUntil = Moment.zero
    private var budget = perTurnBudget
    private var sources: [SourceBucket]
    private var cookieSecret = SymmetricKey(size: .bits256)
    private var cookieSecretBorn: Moment?

    private struct SourceBucket: Sendable {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var limiter = RateLimiter(perSecond: HandshakeGuard.perSourceRate, burst: HandshakeGuard.perSourceBurst)
    }

    public init() {
        sources = Array(repeating: SourceBucket(), count: Self.sourceSlots)
    }

    /// A new turn of the data plane: the Diffie-Hellman budget is full again.
    public mutating func startTurn() {
        budget = Self.perTurnBudget
    }

    public func isUnderLoad(now: Moment) -> Bool { now < underLoadUntil }

    /// Runs the checks on `message`, whose mac1 sits at `macOffset` and mac2 right after.
    /// `checkingEcho`: whether a failed mac1 is worth a second HMAC under the peer's key (the
    /// message came from where that peer is), to tell an echo of our own from junk.
    mutating func admit(
        _ message: UnsafeRawBufferPointer, macAt macOffset: Int, from source: EndpointAddress, keys: HandshakeMACKeys, now: Moment,
        checkingEcho: Bool = true
    ) -> Verdict {
        guard HandshakeMACKeys.verify(keys.mac1ToUs, message, macAt: macOffset) else {
            return .drop(checkingEcho && HandshakeMACKeys.verify(keys.mac1ToPeer, message, macAt: macOffset) ? .ownMessage : .badMAC1)
        }
        noteLoad(now: now)
        if isUnderLoad(now: now) {
            let cookie = self.cookie(for: source, now: now)
            guard HandshakeMACKeys.verify(cookie, message, macAt: macOffset + WireFormat.macLength) else { return .sendCookie }
        }
        guard budget > 0 else {
            // More handshakes than a turn may afford: load, by definition.
            underLoadUntil = now + Self.loadHold
            return .drop(.handshakeRateLimited)
        }
        guard allowSource(source, now: now) else { return .drop(.handshakeRateLimited) }
        budget -= 1
        return .proceed
    }

    /// The cookie reply to `message` (mac1 at `macOffset`, the sender's index at `indexOffset`):
    /// the cookie for `source`, sealed with XChaCha20-Poly1305 under a key from our public
    /// key, bound to the message by its mac1. Smaller than any message it answers, so it
    /// amplifies nothing.
    mutating func cookieReply(
        to message: UnsafeRawBufferPointer, macAt macOffset: Int, indexAt indexOffset: Int,
        from source: EndpointAddress, keys: HandshakeMACKeys, now: Moment
    ) -> [UInt8] {
        typealias Field = WireFormat.CookieReply
        var reply = [UInt8](repeating: 0, count: Field.length)
        reply[0] = WireFormat.version
        reply[1] = WireFormat.MessageType.cookieReply.rawValue
        var generator = SystemRandomNumberGenerator()
        // Three draws of eight bytes: each draw may be a system call.
        var nonce = (generator.next() as UInt64, generator.next() as UInt64, generator.next() as UInt64)
        withUnsafeBytes(of: &nonce) { reply.replaceSubrange(Field.nonce..<Field.sealedCookie, with: $0) }
        let cookie = self.cookie(for: source, now: now)
        let cipher = keys.cookieFromUs
        reply.withUnsafeMutableBytes { out in
            for offset in 0..<4 { out[Field.receiverIndex + offset] = message[indexOffset + offset] }
            let mac1 = UnsafeRawBufferPointer(rebasing: message[macOffset..<(macOffset + WireFormat.macLength)])
            let nonce = UnsafeRawBufferPointer(rebasing: out[Field.nonce..<Field.sealedCookie])
            cookie.withUnsafeBytes { plaintext in
                // The output has exactly the cookie's length plus a tag: sealing cannot fail.
                _ = cipher.seal(plaintext, nonce: nonce, authenticating: mac1, into: UnsafeMutableRawBufferPointer(rebasing: out[Field.sealedCookie...]))
            }
        }
        return reply
    }

    /// The cookie for a source: a MAC of its address and port under a secret that changes
    /// every two minutes, so it proves the sender received at that address lately.
    private mutating func cookie(for source: EndpointAddress, now: Moment) -> SymmetricKey {
        if cookieSecretBorn.map({ now.since($0) >= Self.cookieLifetime }) ?? true {
            cookieSecret = SymmetricKey(size: .bits256)
            cookieSecretBorn = now
        }
        let bytes = source.bytes
        return bytes.withUnsafeBytes { SymmetricKey(data: HandshakeMACKeys.mac(cookieSecret, $0)) }
    }

    private mutating func noteLoad(now: Moment) {
        if now.since(windowStart) >= .seconds(1) {
            windowStart = now
            passedInWindow = 0
        }
        passedInWindow += 1
        if passedInWindow > Self.loadThreshold {
            underLoadUntil = now + Self.loadHold
        }
    }

    /// The token bucket of the source's address (not its port: one host, one budget). A
    /// fixed table: an address takes over a slot another one held, which costs the other at
    /// most a fresh bucket.
    private mutating func allowSource(_ source: EndpointAddress, now: Moment) -> Bool {
        let (high, low) = source.isIPv4 ? (0, source.low) : (source.high, 0)
        var hasher = Hasher()
        hasher.combine(high)
        hasher.combine(low)
        let slot = Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.sourceSlots))
        if sources[slot].high != high || sources[slot].low != low {
            sources[slot] = SourceBucket(high: high, low: low)
        }
        return sources[slot].limiter.allow(now: now)
    }
}

/// The mac1 values of the latest initiations that authenticated: a replay of one of them is
/// refused for the price of a comparison, before any Diffie-Hellman, and it cannot drain
/// the per-source budget of the address it claims.
struct RecentInitiations: Sendable {
    static let capacity = 256
    private var entries: [(UInt64, UInt64)] = Array(repeating: (0, 0), count: capacity)
    private var next = 0

    func contains(mac1 message: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let key = Self.key(message, offset)
        // Empty slots hold zeros: an all-zero mac1 (junk) is never "seen before".
        return key != (0, 0) && entries.contains { $0 == key }
    }

    mutating func remember(mac1 message: UnsafeRawBufferPointer, at offset: Int) {
        entries[next] = Self.key(message, offset)
        next = (next + 1) % Self.capacity
    }

    private static func key(_ message: UnsafeRawBufferPointer, _ offset: Int) -> (UInt64, UInt64) {
        (message.loadUnaligned(fromByteOffset: offset, as: UInt64.self), message.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    }
}
