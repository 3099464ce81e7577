@preconcurrency import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One direction pair of transport keys from a completed handshake, with a send counter and
/// a receive replay window for each lane (Lane).
///
/// The nonce is the per-direction counter: its top byte is the sending lane, the rest counts
/// that lane's messages. Each handshake makes new keys from fresh ephemeral secrets on both
/// sides, and a counter never repeats under one key (each lane counts in its own space), so
/// no (key, nonce) pair is ever used twice, across restarts of either side included.
///
/// Every lane seals and opens with the same session, the keys being immutable; what changes
/// per message is the lane's own: lane k's send counter and the windows of the sending lanes
/// lane k opens (`Lane.opens`). Each sits in a cache line of its own, written by one thread.
public final class Session: @unchecked Sendable {
    /// Where the sending lane sits in the counter, and what is left to count in.
    static let laneShift: UInt64 = 56
    static let laneCounterMask: UInt64 = (1 << laneShift) - 1
    /// Past this many messages of lane 0 a new handshake is started (WireGuard's
    /// REKEY_AFTER_MESSAGES, scaled to a lane's space). Sessions are remade every two minutes
    /// anyway, long before any lane comes near.
    public static let rekeyAfterMessages: UInt64 = 1 << 52
    /// Past this many messages a lane stops sealing under the key: its counter never reaches
    /// the next lane's space, and the replay window keeps its margin below the end (WireGuard's
    /// REJECT_AFTER_MESSAGES).
    public static let rejectAfterMessages: UInt64 = laneCounterMask - (1 << 13)

    public let localIndex: UInt32
    public let remoteIndex: UInt32
    public let isInitiator: Bool
    public let createdAt: Moment
    /// The transport cipher the handshake agreed on.
    public let suite: CipherSuite
    private let sending: TransportCipher
    private let receiving: TransportCipher

    /// One lane's part of the session: its send counter, and the replay window of messages
    /// sealed in the peer's lane of the same number.
    private struct LaneState {
        var nextSendCounter: UInt64 = 0
        var replay = ReplayWindow()
    }

    private static let laneStride = (MemoryLayout<LaneState>.stride + 63) & ~63
    private let laneStates: UnsafeMutableRawPointer

    public init(keys: SessionKeys, createdAt: Moment) {
        localIndex = keys.localIndex
        remoteIndex = keys.remoteIndex
        isInitiator = keys.isInitiator
        suite = keys.suite
        sending = TransportCipher(key: keys.sending, suite: keys.suite)
        receiving = TransportCipher(key: keys.receiving, suite: keys.suite)
        self.createdAt = createdAt
        laneStates = .allocate(byteCount: Self.laneStride * Lane.maximumCount, alignment: 64)
        for lane in 0..<Lane.maximumCount {
            (laneStates + lane * Self.laneStride).initializeMemory(as: LaneState.self, to: LaneState())
        }
    }

    deinit {
        // LaneState holds nothing that needs deinitializing.
        laneStates.deallocate()
    }

    @inline(__always)
    private func state(_ lane: Int) -> UnsafeMutablePointer<LaneState> {
        (laneStates + lane * Self.laneStride).assumingMemoryBound(to: LaneState.self)
    }

    /// Whether `lane` has sealed all it may under this key.
    public func isExhausted(lane: Int = 0) -> Bool { state(lane).pointee.nextSendCounter >= Self.rejectAfterMessages }
    /// Whether `count` more messages can be sealed in `lane` before its counter runs out.
    public func canSeal(_ count: Int, lane: Int = 0) -> Bool {
        state(lane).pointee.nextSendCounter <= Self.rejectAfterMessages - UInt64(count)
    }
    /// Lane 0 (which runs the handshakes) has sealed enough to want new keys.
    public var needsRekey: Bool { state(0).pointee.nextSendCounter >= Self.rekeyAfterMessages }

    /// Moves a lane's send counter, for tests of what happens near the message limits.
    func advanceSendCounter(to counter: UInt64, lane: Int = 0) { state(lane).pointee.nextSendCounter = counter }

    /// Seals `payload` as a transport message of `type` into `out`, counted in `lane`, and
    /// returns the datagram length, or nil when `out` is too small or the lane's counter is
    /// used up. `payload` may already sit where its ciphertext goes, right after the header;
    /// it is then sealed in place.
    public func seal(
        _ type: WireFormat.MessageType, networkID: NetworkID? = nil,
        payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, lane: Int = 0
    ) -> Int? {
        let headerLength = type.carriesNetworkID ? WireFormat.dataHeaderLength : WireFormat.transportHeaderLength
        let total = headerLength + payload.count + WireFormat.tagLength
        let laneState = state(lane)
        guard total <= out.count, laneState.pointee.nextSendCounter < Self.rejectAfterMessages else { return nil }
        let counter = UInt64(lane) << Self.laneShift | laneState.pointee.nextSendCounter
        laneState.pointee.nextSendCounter += 1

        WireFormat.writeCommonHeader(type, into: out)
        out.storeBigEndian(remoteIndex, at: 4)
        out.storeBigEndian(counter, at: WireFormat.counterOffset)
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
        /// On a lane other than 0: this message opened under the session lane 0 answered and
        /// holds as `next`, of this local index, which only lane 0 may make current.
        public internal(set) var openedUnderNext: UInt32?
    }

    /// Authenticates and decrypts a transport datagram (already checked by
    /// `WireFormat.messageType`) into `out`, on `lane`. The counter is recorded only once the
    /// datagram authenticated, so a forgery cannot move the replay window; one whose sending
    /// lane is not this lane's to open (`Lane.opens`) is refused before anything else, so no
    /// window ever has two writers.
    public func open(
        _ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, into out: UnsafeMutableRawBufferPointer,
        lane: Lane = .only
    ) -> Result<Opened, DropReason> {
        let headerLength = type.carriesNetworkID ? WireFormat.dataHeaderLength : WireFormat.transportHeaderLength
        let counter = datagram.loadBigEndian(at: WireFormat.counterOffset, as: UInt64.self)
        let senderLane = Int(counter >> Self.laneShift)
        guard senderLane < Lane.maximumCount, lane.opens(senderLane: senderLane) else { return .failure(.wrongLane) }
        let window = state(senderLane)
        let laneCounter = counter & Self.laneCounterMask
        guard laneCounter < Self.rejectAfterMessages, window.pointee.replay.mayAccept(laneCounter) else { return .failure(.replay) }
        let ciphertextLength = datagram.count - headerLength - WireFormat.tagLength
        guard ciphertextLength <= out.count else { return .failure(.oversized) }

        let header = UnsafeRawBufferPointer(rebasing: datagram[0..<headerLength])
        let sealed = UnsafeRawBufferPointer(rebasing: datagram[headerLength...])
        guard receiving.open(sealed, counter: counter, authenticating: header, into: out) else {
            return .failure(.authentication)
        }
        window.pointee.replay.accept(laneCounter)
        let networkID = type.carriesNetworkID ? datagram.loadBigEndian(at: 16, as: UInt32.self) >> 8 : 0
        return .success(Opened(type: type, networkID: networkID, payloadLength: ciphertextLength))
    }

    /// The receiver index of a transport message: which of our sessions it claims.
    public static func receiverIndex(of datagram: UnsafeRawBufferPointer) -> UInt32 {
        datagram.loadBigEndian(at: 4, as: UInt32.self)
    }
}
