/// Control messages: keepalives for liveness and round-trip time, probes for the path MTU.
///
/// Every control payload starts with its kind and an 8-byte stamp; probes and their
/// acknowledgements add the probed size (2 bytes), and a probe is padded to that size.
extension DataPath {
    static let controlStampLength = 9
    static let probeHeaderLength = controlStampLength + 2

    func handleControl(_ payload: UnsafeRawBufferPointer, from peer: Peer, now: Moment) {
        guard payload.count >= Self.controlStampLength, let kind = ControlKind(rawValue: payload[0]) else {
            peer.counters.drop(.malformed)
            return
        }
        let stamp = payload.loadBigEndian(at: 1, as: UInt64.self)
        switch kind {
        case .keepalive:
            peer.counters.keepalivesReceived &+= 1
            sendControl(.keepaliveReply, stamp: stamp, to: peer, now: now)
        case .keepaliveReply:
            peer.link.keepaliveReplyReceived(sentAt: Moment(nanoseconds: stamp), now: now)
        case .probe, .probeAck:
            guard payload.count >= Self.probeHeaderLength else {
                peer.counters.drop(.malformed)
                return
            }
            let size = Int(payload.loadBigEndian(at: Self.controlStampLength, as: UInt16.self))
            if kind == .probe {
                sendControl(.probeAck, stamp: stamp, probedSize: size, to: peer, now: now)
            } else {
                peer.counters.pathProbesAcknowledged &+= 1
                peer.pathMTU.acknowledged(size: size, now: now)
            }
        }
    }

    /// Sends the path MTU probes that are due; a probe the device refuses (EMSGSIZE) narrows
    /// the search at once, so the next one follows without waiting.
    func probePath(_ peer: Peer, now: Moment) {
        while let size = peer.pathMTU.probeDue(now: now, roundTripTime: peer.link.roundTripTime, peerHeardAt: peer.link.lastAuthenticatedReceive) {
            peer.counters.pathProbesSent &+= 1
            let datagramLength = size - peer.pathMTU.headerOverhead
            guard sendControl(.probe, stamp: now.nanoseconds, probedSize: size, datagramLength: datagramLength, to: peer, now: now) == .tooLarge else {
                break
            }
            peer.pathMTU.sendFailed(size: size, now: now)
        }
        if peer.pathMTU.takePeerReplyRequest() {
            sendControl(.keepalive, stamp: now.nanoseconds, to: peer, now: now)
        }
    }

    /// Seals and sends one control message; `datagramLength` pads it to that size.
    @discardableResult
    func sendControl(
        _ kind: ControlKind, stamp: UInt64, probedSize: Int? = nil, datagramLength: Int? = nil, to peer: Peer, now: Moment
    ) -> IOResult {
        // Sealed in lane 0's counter space, which only lane 0's thread moves.
        precondition(lane.isPrimary, "control messages are lane 0's")
        guard let route = peer.route(now: now) else { return .wouldBlock }
        let overhead = WireFormat.transportHeaderLength + WireFormat.tagLength
        var length = probedSize == nil ? Self.controlStampLength : Self.probeHeaderLength
        if let datagramLength { length = max(length, min(datagramLength - overhead, controlPayload.count)) }
        controlPayload[0] = kind.rawValue
        controlPayload.storeBigEndian(stamp, at: 1)
        if let probedSize { controlPayload.storeBigEndian(UInt16(clamping: probedSize), at: Self.controlStampLength) }
        if length > Self.probeHeaderLength {
            UnsafeMutableRawBufferPointer(rebasing: controlPayload[Self.probeHeaderLength..<length]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        guard let sealed = route.session.seal(.control, payload: UnsafeRawBufferPointer(rebasing: controlPayload[0..<length]), into: controlBuffer) else {
            peer.counters.drop(.oversized)
            return .failed(errno: 0)
        }
        let result = sendNow(UnsafeRawBufferPointer(rebasing: controlBuffer[0..<sealed]), to: route.address, counting: peer)
        if case .completed = result, kind == .keepalive { peer.counters.keepalivesSent &+= 1 }
        return result
    }
}
