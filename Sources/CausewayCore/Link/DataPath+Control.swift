/// Control messages: keepalives for liveness and round-trip time, probes for the path MTU.
///
/// Every control payload starts with its kind and an 8-byte stamp; probes and their
/// acknowledgements add the probed size (2 bytes), and a probe is padded to that size.
extension DataPath {
    static let controlStampLength = 9
    static let probeHeaderLength = controlStampLength + 2

    func handleControl(_ payload: UnsafeRawBufferPointer, now: Moment) {
        guard payload.count >= Self.controlStampLength, let kind = ControlKind(rawValue: payload[0]) else {
            counters.drop(.malformed)
            return
        }
        let stamp = payload.loadBigEndian(at: 1, as: UInt64.self)
        switch kind {
        case .keepalive:
            counters.keepalivesReceived &+= 1
            sendControl(.keepaliveReply, stamp: stamp, now: now)
        case .keepaliveReply:
            link.keepaliveReplyReceived(sentAt: Moment(nanoseconds: stamp), now: now)
        case .probe, .probeAck:
            guard payload.count >= Self.probeHeaderLength else {
                counters.drop(.malformed)
                return
            }
            let size = Int(payload.loadBigEndian(at: Self.controlStampLength, as: UInt16.self))
            if kind == .probe {
                sendControl(.probeAck, stamp: stamp, probedSize: size, now: now)
            } else {
                counters.pathProbesAcknowledged &+= 1
                pathMTU.acknowledged(size: size, now: now)
            }
        }
    }

    /// Sends the path MTU probes that are due; a probe the device refuses (EMSGSIZE) narrows
    /// the search at once, so the next one follows without waiting.
    func probePath(now: Moment) {
        while let size = pathMTU.probeDue(now: now, roundTripTime: link.roundTripTime, peerHeardAt: link.lastAuthenticatedReceive) {
            counters.pathProbesSent &+= 1
            let datagramLength = size - pathMTU.headerOverhead
            guard sendControl(.probe, stamp: now.nanoseconds, probedSize: size, datagramLength: datagramLength, now: now) == .tooLarge else {
                break
            }
            pathMTU.sendFailed(size: size, now: now)
        }
        if pathMTU.takePeerReplyRequest() {
            sendControl(.keepalive, stamp: now.nanoseconds, now: now)
        }
    }

    /// Seals and sends one control message; `datagramLength` pads it to that size.
    @discardableResult
    func sendControl(
        _ kind: ControlKind, stamp: UInt64, probedSize: Int? = nil, datagramLength: Int? = nil, now: Moment
    ) -> IOResult {
        guard let session = link.sendingSession(now: now) else { return .wouldBlock }
        let overhead = WireFormat.transportHeaderLength + WireFormat.tagLength
        var length = probedSize == nil ? Self.controlStampLength : Self.probeHeaderLength
        if let datagramLength { length = max(length, min(datagramLength - overhead, controlPayload.count)) }
        controlPayload[0] = kind.rawValue
        controlPayload.storeBigEndian(stamp, at: 1)
        if let probedSize { controlPayload.storeBigEndian(UInt16(clamping: probedSize), at: Self.controlStampLength) }
        if length > Self.probeHeaderLength {
            UnsafeMutableRawBufferPointer(rebasing: controlPayload[Self.probeHeaderLength..<length]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        guard let sealed = session.seal(.control, payload: UnsafeRawBufferPointer(rebasing: controlPayload[0..<length]), into: controlBuffer) else {
            counters.drop(.oversized)
            return .failed(errno: 0)
        }
        let result = sendNow(UnsafeRawBufferPointer(rebasing: controlBuffer[0..<sealed]), to: peerAddress)
        if case .completed = result, kind == .keepalive { counters.keepalivesSent &+= 1 }
        return result
    }
}
