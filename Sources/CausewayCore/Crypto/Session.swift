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
    /// Past this many messages a key is retired (the counter would still be far from wrapping).
    public static let rejectAfterMessages: UInt64 = 1 << 60

    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
    public let createdAt: Moment
    private let sendingKey: SymmetricKey
    private let receivingKey: SymmetricKey
    private var nextSendCounter: UInt64 = 0
    private var replay = ReplayWindow()

    public init(keys: SessionKeys, createdAt: Moment) {
        localIndex = keys.localIndex
        remoteIndex = keys.remoteIndex
        isInitiator = keys.isInitiator
        sendingKey = keys.sending
        receivingKey = keys.receiving
        self.createdAt = createdAt
    }

    public var isExhausted: Bool { nextSendCounter >= Self.rejectAfterMessages }

    /// Seals `payload` as a transport message of `type` into `out` and returns the datagram
    /// length, or nil when `out` is too small or the key is used up.
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
        guard let box = try? ChaChaPoly.seal(payload, using: sendingKey, nonce: Self.nonce(counter), authenticating: header) else {
            return nil
        }
        let body = UnsafeMutableRawBufferPointer(rebasing: out[headerLength...])
        box.ciphertext.copyBytes(to: body)
        box.tag.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: body[payload.count...]))
        return total
    }

    /// What an authenticated transport message held.
    public struct Opened: Sendable, Equatable {
        public let type: WireFormat.MessageType
        public let networkID: UInt32
        public let payloadLength: Int
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
        let ciphertext = UnsafeRawBufferPointer(rebasing: datagram[headerLength..<(headerLength + ciphertextLength)])
        let tag = UnsafeRawBufferPointer(rebasing: datagram[(headerLength + ciphertextLength)...])
        guard let box = try? ChaChaPoly.SealedBox(nonce: Self.nonce(counter), ciphertext: ciphertext, tag: tag),
              let plaintext = try? ChaChaPoly.open(box, using: receivingKey, authenticating: header)
        else { return .failure(.authentication) }
        replay.accept(counter)
        plaintext.copyBytes(to: out)
        let networkID = type.carriesNetworkID ? datagram.loadBigEndian(at: 16, as: UInt32.self) >> 8 : 0
        return .success(Opened(type: type, networkID: networkID, payloadLength: ciphertextLength))
    }

    /// The receiver index of a transport message: which of our sessions it claims.
    public static func receiverIndex(of datagram: UnsafeRawBufferPointer) -> UInt32 {
        datagram.loadBigEndian(at: 4, as: UInt32.self)
    }

    private static func nonce(_ counter: UInt64) -> ChaChaPoly.Nonce {
        NoiseSymmetricState.nonce(counter)
    }
}
