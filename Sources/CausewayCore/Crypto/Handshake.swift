@preconcurrency import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The session keys a completed handshake yields, one per direction.
public struct SessionKeys: Sendable {
    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let sending: SymmetricKey
    public let receiving: SymmetricKey
    public let isInitiator: Bool
}

/// The Noise NNpsk0 handshake over Curve25519, ChaCha20-Poly1305 and SHA-256:
///
///     -> psk, e        initiation: sender index, ephemeral key, sealed timestamp
///     <- e, ee         response:   sender index, receiver index, ephemeral key, sealed empty
///
/// Both sides contribute a fresh ephemeral key, so every handshake yields fresh keys; the
/// pre-shared key is mixed in before anything is sent, so only a holder of it can produce
/// an initiation that opens or a response that opens. The clear-text fields of each message
/// (header and indices) are mixed into the handshake hash, binding them to the keys.
public enum Handshake {
    static let protocolName = "Noise_NNpsk0_25519_ChaChaPoly_SHA256"
    static let prologue = Array("causeway/1".utf8)

    public enum Failure: Error, Sendable {
        /// The message does not open with the pre-shared key.
        case authentication
        /// The message is not of the expected form.
        case malformed
    }

    /// An initiation in flight: what the initiator keeps until the response arrives.
    public struct Initiator: Sendable {
        public let localIndex: UInt32
        public let startedAt: Moment
        fileprivate let ephemeral: Curve25519.KeyAgreement.PrivateKey
        fileprivate let state: NoiseSymmetricState
    }

    /// What a responder learned from a valid initiation.
    public struct Answer: Sendable {
        public let keys: SessionKeys
        public let timestamp: HandshakeTimestamp
        public let response: [UInt8]
    }

    public static func initiate(psk: PreSharedKey, localIndex: UInt32, timestamp: HandshakeTimestamp, now: Moment) -> (Initiator, [UInt8]) {
        var state = initialState(psk: psk)
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        var message = [WireFormat.version, WireFormat.MessageType.handshakeInitiation.rawValue, 0, 0]
        message += bigEndianBytes(localIndex)
        state.mixHash(message)
        let ephemeralPublic = Array(ephemeral.publicKey.rawRepresentation)
        state.mixHash(ephemeralPublic)
        state.mixKey(ephemeralPublic)
        // Sealing with a freshly mixed key cannot fail.
        message += ephemeralPublic + (try! state.encryptAndHash(timestamp.bytes))
        return (Initiator(localIndex: localIndex, startedAt: now, ephemeral: ephemeral, state: state), message)
    }

    /// Checks an initiation and builds the response to it.
    public static func respond(to initiation: [UInt8], psk: PreSharedKey, localIndex: UInt32) throws(Failure) -> Answer {
        guard initiation.count == WireFormat.initiationLength else { throw .malformed }
        var state = initialState(psk: psk)
        let remoteIndex = readBigEndian(initiation, at: 4)
        state.mixHash(initiation[0..<8])
        let remoteEphemeralBytes = initiation[8..<40]
        state.mixHash(remoteEphemeralBytes)
        state.mixKey(remoteEphemeralBytes)
        let timestamp: HandshakeTimestamp
        do {
            guard let stamp = HandshakeTimestamp(bytes: try state.decryptAndHash(initiation[40...])) else { throw Failure.malformed }
            timestamp = stamp
        } catch {
            throw .authentication
        }
        guard let remoteEphemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: remoteEphemeralBytes) else {
            throw .malformed
        }

        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        var response = [WireFormat.version, WireFormat.MessageType.handshakeResponse.rawValue, 0, 0]
        response += bigEndianBytes(localIndex) + bigEndianBytes(remoteIndex)
        state.mixHash(response)
        let ephemeralPublic = Array(ephemeral.publicKey.rawRepresentation)
        state.mixHash(ephemeralPublic)
        state.mixKey(ephemeralPublic)
        guard let shared = try? ephemeral.sharedSecretFromKeyAgreement(with: remoteEphemeral) else { throw .malformed }
        state.mixKey(shared.withUnsafeBytes { Array($0) })
        response += ephemeralPublic + (try! state.encryptAndHash([]))

        let (initiatorToResponder, responderToInitiator) = state.split()
        let keys = SessionKeys(
            localIndex: localIndex, remoteIndex: remoteIndex,
            sending: responderToInitiator, receiving: initiatorToResponder, isInitiator: false
        )
        return Answer(keys: keys, timestamp: timestamp, response: response)
    }

    /// Completes the initiator's side with the peer's response.
    public static func complete(_ initiator: Initiator, response: [UInt8]) throws(Failure) -> SessionKeys {
        guard response.count == WireFormat.responseLength,
              readBigEndian(response, at: 8) == initiator.localIndex
        else { throw .malformed }
        var state = initiator.state
        let remoteIndex = readBigEndian(response, at: 4)
        state.mixHash(response[0..<12])
        let remoteEphemeralBytes = response[12..<44]
        state.mixHash(remoteEphemeralBytes)
        state.mixKey(remoteEphemeralBytes)
        guard let remoteEphemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: remoteEphemeralBytes),
              let shared = try? initiator.ephemeral.sharedSecretFromKeyAgreement(with: remoteEphemeral)
        else { throw .malformed }
        state.mixKey(shared.withUnsafeBytes { Array($0) })
        do {
            _ = try state.decryptAndHash(response[44...])
        } catch {
            throw .authentication
        }
        let (initiatorToResponder, responderToInitiator) = state.split()
        return SessionKeys(
            localIndex: initiator.localIndex, remoteIndex: remoteIndex,
            sending: initiatorToResponder, receiving: responderToInitiator, isInitiator: true
        )
    }

    /// The receiver index a response names, to find the initiation it answers.
    public static func receiverIndex(ofResponse response: UnsafeRawBufferPointer) -> UInt32 {
        response.loadBigEndian(at: 8, as: UInt32.self)
    }

    private static func initialState(psk: PreSharedKey) -> NoiseSymmetricState {
        var state = NoiseSymmetricState(protocolName: protocolName)
        state.mixHash(prologue)
        state.mixKeyAndHash(psk.bytes)
        return state
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) }
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
