@preconcurrency import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One direction pair of transport keys from a completed handshake, with the send counter
/// and the replay window of the receive direction.
///
/// The nonce is the per-direction counter. Each handshake makes new keys from fresh
/// ephemeral secrets on both sides, and a counter never repeats under one key, so no
/// (key, nonce) pair is ever used twice, across restarts of either side included.
public final class Session: @unchecked Sendable {
    /// Past this many messages a new handshake is started (WireGuard's REKEY_AFTER_MESSAGES).
    public static let rekeyAfterMessages: UInt64 = 1 << 60
    /// Past this many a key is retired: the counter never wraps, and the replay window
    /// keeps its margin below the end (WireGuard's REJECT_AFTER_MESSAGES).
    public static let rejectAfterMessages: UInt64 = UInt64.max - (1 << 13)

    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
    public let createdAt: Moment
    private let sending: TransportCipher
    private let receiving: TransportCipher
    private var nextSendCounter: UInt64 = 0
    private var replay = ReplayWindow()

    public init(keys: SessionKeys, createdAt: Moment) {
        localIndex = keys.localIndex
        remoteIndex = keys.remoteIndex
        isInitiator = keys.isInitiator
        sending = TransportCipher(key: keys.sending)
        receiving = TransportCipher(key: keys.receiving)
        self.createdAt = createdAt
    }

    public var isExhausted: Bool { nextSendCounter >= Self.rejectAfterMessages }
    /// Whether `count` more messages can be sealed before the counter runs out.
    public func canSeal(_ count: Int) -> Bool { nextSendCounter <= Self.rejectAfterMessages - UInt64(count) }
    public var needsRekey: Bool { nextSendCounter >= Self.rekeyAfterMessages }

    /// Moves the send counter, for tests of what happens near the message limits.
    func advanceSendCounter(to counter: UInt64) { nextSendCounter = counter }

    /// Seals `payload` as a transport message of `type` into `out` and returns the datagram
    /// length, or nil when `out` is too small or the key is used up. `payload` may already
    /// sit where its ciphertext goes, right after the header; it is then sealed in place.
    public func seal(
        _ type: WireFormat.MessageType, networkID: NetworkID? = nil,
        payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let headerLength = type.carriesNetworkID ? WireFormat.dataHeaderLength : WireFormat.transportHeaderLength
        let total = headerLength + payload.count + WireFormat.tagLength
        guard total <= out.count, !isExhausted else { return nil }
        let counter = nextSendCounter
        nextSendCounter += 1

        WireFormat.writeCommonHeader(type, into: out)
        out.storeBigEndian(remoteIndex, at: 4)
        out.storeBigEndian(counter, at: 8)
        if type.carriesNetworkID {
            let id = networkID?.rawValue ?? 0
            out.storeBigEndian(UInt32(id << 8), at: 16)
        }
        let header = UnsafeRawBufferPointer(rebasing: out[0..<headerLength])
        let body = UnsafeMutableRawBufferPointer(rebasing: out[headerLength..<total])
        guard sending.seal(payload, counter: counter, authenticating: header, into: body) else { return nil }
        return total
    }

    /// What an authenticated transport message held.
    public struct Opened: Sendable, Equatable {
        public let type: WireFormat.MessageType
        public let networkID: UInt32
        public let payloadLength: Int
        /// This message was the first under a session this side answered, which it made
        /// the current one: the handshake completed here, as the responder.
        public internal(set) var establishedSession = false
    }

    /// Authenticates and decrypts a transport datagram (already checked by
    /// `WireFormat.messageType`) into `out`. The counter is recorded only once the datagram
    /// authenticated, so a forgery cannot move the replay window.
    public func open(
        _ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, into out: UnsafeMutableRawBufferPointer
    ) -> Result<Opened, DropReason> {
        let headerLength = type.carriesNetworkID ? WireFormat.dataHeaderLength : WireFormat.transportHeaderLength
        let counter = datagram.loadBigEndian(at: 8, as: UInt64.self)
        guard counter < Self.rejectAfterMessages, replay.mayAccept(counter) else { return .failure(.replay) }
        let ciphertextLength = datagram.count - headerLength - WireFormat.tagLength
        guard ciphertextLength <= out.count else { return .failure(.oversized) }

        let header = UnsafeRawBufferPointer(rebasing: datagram[0..<headerLength])
        let sealed = UnsafeRawBufferPointer(rebasing: datagram[headerLength...])
        guard receiving.open(sealed, counter: counter, authenticating: header, into: out) else {
            return .failure(.authentication)
        }
        replay.accept(counter)
        let networkID = type.carriesNetworkID ? datagram.loadBigEndian(at: 16, as: UInt32.self) >> 8 : 0
        return .success(Opened(type: type, networkID: networkID, payloadLength: ciphertextLength))
    }

    /// The receiver index of a transport message: which of our sessions it claims.
    public static func receiverIndex(of datagram: UnsafeRawBufferPointer) -> UInt32 {
        datagram.loadBigEndian(at: 4, as: UInt32.self)
    }
}
