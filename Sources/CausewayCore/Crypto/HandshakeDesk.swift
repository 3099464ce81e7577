/// What every link of one gateway shares in handshakes: one guard (one Diffie-Hellman budget
/// per turn, one cookie secret, one rate limit per source address) and the initiations seen
/// lately. An initiation names its sender only once it is opened, so its checks cannot be
/// any one link's; they are this desk's. Owned, like the links, by the data-plane thread.
public final class HandshakeDesk: @unchecked Sendable {
    var guardian = HandshakeGuard()
    var recentInitiations = RecentInitiations()

    public init() {}

    public func isUnderLoad(now: Moment) -> Bool { guardian.isUnderLoad(now: now) }

    /// A new turn of the data plane: handshakes may again cost a few Diffie-Hellmans.
    public func startTurn() { guardian.startTurn() }

    /// The checks of an initiation, cheapest first (a replayed mac1, the guard's), then its
    /// Noise part, whose sealed static key `identityOf` turns into the sender's identity (nil:
    /// not a peer of ours). Returns the opened initiation and that identity, or nil after
    /// counting why it was dropped (also in `refusal`); under load `cookieReply` holds a
    /// cookie reply to send.
    /// `keys` are any link's MAC keys: mac1 and cookies are under our own public key; its
    /// peer's key only tells an echo of our own message from junk.
    func openInitiation(
        _ datagram: UnsafeRawBufferPointer, from source: EndpointAddress, keys: HandshakeMACKeys, local: PrivateKey,
        identityOf: ([UInt8]) -> SiteIdentity?, now: Moment, counters: inout Counters, cookieReply: inout [UInt8]?,
        refusal: inout DropReason?, checkingEcho: Bool = true
    ) -> (Handshake.OpenedInitiation, SiteIdentity)? {
        typealias Field = WireFormat.Initiation
        counters.initiationsReceived &+= 1
        // A replay of an initiation that authenticated costs a comparison, no HMAC and no
        // budget: a mac1 seen before is a replay, or a forgery that copied it.
        if recentInitiations.contains(mac1: datagram, at: Field.mac1) {
            counters.drop(.staleHandshake)
            refusal = .staleHandshake
            return nil
        }
        guard admit(
            datagram, macAt: Field.mac1, indexAt: Field.senderIndex, from: source, keys: keys, now: now, counters: &counters,
            cookieReply: &cookieReply, refusal: &refusal, checkingEcho: checkingEcho
        ) else {
            return nil
        }
        var sender: SiteIdentity?
        let opened: Handshake.OpenedInitiation
        do {
            opened = try Handshake.open(initiation: datagram, local: local) { staticKey in
                sender = identityOf(staticKey)
                return sender
            }
        } catch {
            counters.drop(error.dropReason)
            refusal = error.dropReason
            return nil
        }
        recentInitiations.remember(mac1: datagram, at: Field.mac1)
        return (opened, sender!)
    }

    /// The guard's checks (HandshakeGuard): true when the message may go on to the
    /// Diffie-Hellman; otherwise the drop is counted, and under load `cookieReply` holds the
    /// cookie reply to send back.
    func admit(
        _ datagram: UnsafeRawBufferPointer, macAt macOffset: Int, indexAt indexOffset: Int, from source: EndpointAddress,
        keys: HandshakeMACKeys, now: Moment, counters: inout Counters, cookieReply: inout [UInt8]?
    ) -> Bool {
        var refusal: DropReason?
        return admit(datagram, macAt: macOffset, indexAt: indexOffset, from: source, keys: keys, now: now, counters: &counters, cookieReply: &cookieReply, refusal: &refusal)
    }

    private func admit(
        _ datagram: UnsafeRawBufferPointer, macAt macOffset: Int, indexAt indexOffset: Int, from source: EndpointAddress,
        keys: HandshakeMACKeys, now: Moment, counters: inout Counters, cookieReply: inout [UInt8]?, refusal: inout DropReason?,
        checkingEcho: Bool = true
    ) -> Bool {
        switch guardian.admit(datagram, macAt: macOffset, from: source, keys: keys, now: now, checkingEcho: checkingEcho) {
        case .proceed:
            return true
        case .drop(let reason):
            counters.drop(reason)
            refusal = reason
        case .sendCookie:
            counters.drop(.cookieRequired)
            refusal = .cookieRequired
            counters.cookieRepliesSent &+= 1
            cookieReply = guardian.cookieReply(to: datagram, macAt: macOffset, indexAt: indexOffset, from: source, keys: keys, now: now)
        }
        return false
    }
}

extension Handshake.Failure {
    var dropReason: DropReason {
        switch self {
        case .authentication: .authentication
        case .unknownPeer: .unknownPeer
        case .malformed: .malformed
        case .noCommonCipher: .noCommonCipher
        }
    }
}
