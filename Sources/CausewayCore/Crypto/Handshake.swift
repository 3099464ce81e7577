@preconcurrency import Crypto

/// The session keys a completed handshake yields, one per direction.
public struct SessionKeys: Sendable {
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let sending: SymmetricKey
    public let receiving: SymmetricKey
    public let isInitiator: Bool
    /// The transport cipher both sides' offers agreed on.
    public let suite: CipherSuite
}

/// The Noise IKpsk2 handshake over Curve25519, ChaCha20-Poly1305 and SHA-256, the pattern
/// of WireGuard:
///
///     <- s                         the initiator knows the responder's static key
///     -> e, es, s, ss              initiation: ephemeral, sealed static, sealed payload
///                                  (timestamp, cipher offer)
///     <- e, ee, se, psk            response:   ephemeral, sealed payload (cipher offer)
///
/// The initiator's static key travels encrypted (identity hiding); ee gives forward
/// secrecy; es and se prove each side holds its private key; the optional pre-shared key is
/// mixed in last. The roles are bound into the messages: an initiation is sealed to the
/// responder's static key and names the initiator's, a response answers one ephemeral, so a
/// gateway's own message echoed back never opens as its peer's.
///
/// Each side's payload carries its cipher offer; both pick the transport cipher from the two
/// (`CipherOffer.agree`), so the choice is authenticated with everything else, and the
/// responder refuses an initiation with which it shares no cipher before it makes any key.
///
/// The clear fields around the Noise bytes (header, indices, mac1, mac2) are not hashed, as
/// in WireGuard, so the transcript is exactly Noise's and an independent implementation
/// checks it (Tests/noise/interop.py). What guards those fields is the mac1, and the index
/// lookup that a wrong index fails.
public enum Handshake {
    static let protocolName = "Noise_IKpsk2_25519_ChaChaPoly_SHA256"
    static let prologue = Array("causeway/4".utf8)

    public enum Failure: Error, Sendable, Equatable {
        /// A sealed field did not open: not made with the keys this link expects.
        case authentication
        /// The initiation opened, but names a static key that is not the configured peer's.
        case unknownPeer
        /// Not of the expected form, or a key that yields an all-zero shared secret.
        case malformed
        /// Authenticated, but the peer's cipher offer shares no cipher with ours.
        case noCommonCipher(theirs: CipherOffer)
    }

    /// An initiation in flight: what the initiator keeps until the response arrives.
    public struct Initiator: Sendable {
        public let localIndex: UInt32
        public let startedAt: Moment
        fileprivate let ephemeral: PrivateKey
        fileprivate let state: NoiseSymmetricState
    }

    /// A valid initiation before it is answered: the timestamp is checked between the two
    /// steps, so a replay costs one Diffie-Hellman, not three.
    public struct OpenedInitiation: Sendable {
        public let remoteIndex: UInt32
        public let timestamp: HandshakeTimestamp
        /// The initiator's cipher offer.
        public let offer: CipherOffer
        fileprivate let remoteEphemeral: Curve25519.KeyAgreement.PublicKey
        fileprivate let state: NoiseSymmetricState
    }

    /// What a responder sends and keeps for a valid initiation.
    public struct Answer: Sendable {
        public let keys: SessionKeys
        /// The response, its mac fields zero: the caller writes them.
        public let response: [UInt8]
    }

    /// Builds an initiation; its mac fields are zero: the caller writes them.
    public static func initiate(
        _ identity: SiteIdentity, localIndex: UInt32, timestamp: HandshakeTimestamp, now: Moment,
        ephemeral: PrivateKey = .random()
    ) -> (Initiator, [UInt8]) {
        var state = initialState(responderStatic: identity.peer)
        var message = header(.handshakeInitiation) + bigEndianBytes(localIndex)
        let ephemeralPublic = ephemeral.publicKey.bytes
        mixEphemeral(ephemeralPublic, into: &state)
        // The peer's key was checked for a non-zero result when the identity was made, and a
        // fresh ephemeral with a valid public key cannot give zero either.
        state.mixKey(ephemeral.sharedSecret(with: identity.peerAgreementKey)!)
        message += ephemeralPublic
        message += state.encryptAndHash(identity.local.publicKey.bytes)
        state.mixKey(identity.staticShared)
        message += state.encryptAndHash(timestamp.bytes + [identity.ciphers.byte])
        message += [UInt8](repeating: 0, count: 2 * WireFormat.macLength)
        return (Initiator(localIndex: localIndex, startedAt: now, ephemeral: ephemeral, state: state), message)
    }

    /// Checks an initiation's Noise part: one Diffie-Hellman (es), then the sealed static key
    /// must be the peer's and the payload (timestamp, cipher offer) must open.
    public static func open(initiation: UnsafeRawBufferPointer, _ identity: SiteIdentity) throws(Failure) -> OpenedInitiation {
        try open(initiation: initiation, local: identity.local) { $0 == identity.peer.bytes ? identity : nil }
    }

    /// Checks an initiation's Noise part for a gateway with many peers: one Diffie-Hellman
    /// (es) opens the sender's static key, `identityOf` names the peer it belongs to (nil: none
    /// of ours), and the payload must open under that peer's static-static secret.
    static func open(
        initiation: UnsafeRawBufferPointer, local: PrivateKey, identityOf: ([UInt8]) -> SiteIdentity?
    ) throws(Failure) -> OpenedInitiation {
        typealias Field = WireFormat.Initiation
        guard initiation.count == Field.length else { throw .malformed }
        var state = initialState(responderStatic: local.publicKey)
        let remoteEphemeralBytes = Array(initiation[Field.ephemeral..<Field.sealedStatic])
        mixEphemeral(remoteEphemeralBytes, into: &state)
        let remoteEphemeral = try agreementKey(remoteEphemeralBytes)
        guard let es = local.sharedSecret(with: remoteEphemeral) else { throw .malformed }
        state.mixKey(es)
        let payload: [UInt8]
        do {
            let remoteStatic = try state.decryptAndHash(initiation[Field.sealedStatic..<Field.sealedPayload])
            guard let identity = identityOf(remoteStatic) else { throw Failure.unknownPeer }
            state.mixKey(identity.staticShared)
            payload = try state.decryptAndHash(initiation[Field.sealedPayload..<Field.mac1])
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .authentication
        }
        guard let timestamp = HandshakeTimestamp(bytes: Array(payload[..<WireFormat.timestampLength])) else { throw .malformed }
        return OpenedInitiation(
            remoteIndex: initiation.loadBigEndian(at: Field.senderIndex, as: UInt32.self),
            timestamp: timestamp, offer: CipherOffer(byte: payload[WireFormat.timestampLength]),
            remoteEphemeral: remoteEphemeral, state: state
        )
    }

    /// Answers an opened initiation: a fresh ephemeral, ee and se, the pre-shared key, and
    /// our cipher offer. Refused, before any of it, when the offers share no cipher.
    public static func respond(
        to initiation: OpenedInitiation, _ identity: SiteIdentity, localIndex: UInt32, ephemeral: PrivateKey = .random()
    ) throws(Failure) -> Answer {
        guard let suite = CipherOffer.agree(identity.ciphers, initiation.offer) else { throw .noCommonCipher(theirs: initiation.offer) }
        var state = initiation.state
        var response = header(.handshakeResponse) + bigEndianBytes(localIndex) + bigEndianBytes(initiation.remoteIndex)
        let ephemeralPublic = ephemeral.publicKey.bytes
        mixEphemeral(ephemeralPublic, into: &state)
        guard let ee = ephemeral.sharedSecret(with: initiation.remoteEphemeral) else { throw .malformed }
        state.mixKey(ee)
        // se: the responder's ephemeral with the initiator's static, checked non-zero once.
        state.mixKey(ephemeral.sharedSecret(with: identity.peerAgreementKey)!)
        state.mixKeyAndHash(identity.psk.bytes)
        response += ephemeralPublic + state.encryptAndHash([identity.ciphers.byte])
        response += [UInt8](repeating: 0, count: 2 * WireFormat.macLength)
        let (initiatorToResponder, responderToInitiator) = state.split()
        let keys = SessionKeys(
            localIndex: localIndex, remoteIndex: initiation.remoteIndex,
            sending: responderToInitiator, receiving: initiatorToResponder, isInitiator: false, suite: suite
        )
        return Answer(keys: keys, response: response)
    }

    /// Completes the initiator's side with the peer's response: two Diffie-Hellmans.
    public static func complete(_ initiator: Initiator, response: UnsafeRawBufferPointer, _ identity: SiteIdentity) throws(Failure) -> SessionKeys {
        typealias Field = WireFormat.Response
        guard response.count == Field.length,
              response.loadBigEndian(at: Field.receiverIndex, as: UInt32.self) == initiator.localIndex
        else { throw .malformed }
        var state = initiator.state
        let remoteEphemeralBytes = Array(response[Field.ephemeral..<Field.sealedPayload])
        mixEphemeral(remoteEphemeralBytes, into: &state)
        let remoteEphemeral = try agreementKey(remoteEphemeralBytes)
        guard let ee = initiator.ephemeral.sharedSecret(with: remoteEphemeral),
              let se = identity.local.sharedSecret(with: remoteEphemeral)
        else { throw .malformed }
        state.mixKey(ee)
        state.mixKey(se)
        state.mixKeyAndHash(identity.psk.bytes)
        let theirs: CipherOffer
        do {
            theirs = CipherOffer(byte: try state.decryptAndHash(response[Field.sealedPayload..<Field.mac1])[0])
        } catch {
            throw .authentication
        }
        // The responder agreed already; only one that does not follow the protocol gets here.
        guard let suite = CipherOffer.agree(identity.ciphers, theirs) else { throw .noCommonCipher(theirs: theirs) }
        let (initiatorToResponder, responderToInitiator) = state.split()
        return SessionKeys(
            localIndex: initiator.localIndex, remoteIndex: response.loadBigEndian(at: Field.senderIndex, as: UInt32.self),
            sending: initiatorToResponder, receiving: responderToInitiator, isInitiator: true, suite: suite
        )
    }

    /// The receiver index a response or cookie reply names, to find the message it answers.
    public static func receiverIndex(of message: UnsafeRawBufferPointer, type: WireFormat.MessageType) -> UInt32 {
        let offset = type == .cookieReply ? WireFormat.CookieReply.receiverIndex : WireFormat.Response.receiverIndex
        return message.loadBigEndian(at: offset, as: UInt32.self)
    }

    /// Noise's initialization: the protocol name, the prologue, then the responder's static
    /// key, which IK's initiator knows before the first message (a pre-message).
    private static func initialState(responderStatic: PublicKey) -> NoiseSymmetricState {
        var state = NoiseSymmetricState(protocolName: protocolName)
        state.mixHash(prologue)
        state.mixHash(responderStatic.bytes)
        return state
    }

    /// The `e` token of a psk pattern: hashed, and mixed into the key as well.
    private static func mixEphemeral(_ publicKey: [UInt8], into state: inout NoiseSymmetricState) {
        state.mixHash(publicKey)
        state.mixKey(publicKey)
    }

    private static func agreementKey(_ bytes: [UInt8]) throws(Failure) -> Curve25519.KeyAgreement.PublicKey {
        guard let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) else { throw .malformed }
        return key
    }

    private static func header(_ type: WireFormat.MessageType) -> [UInt8] {
        [WireFormat.version, type.rawValue, 0, 0]
    }

    static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) }
    }
}
