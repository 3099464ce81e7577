/// WAN to LAN: datagrams from the peer checked by type and length, handshakes answered,
/// transport messages opened, split frames put back together, and frames written to the
/// LAN, a flow's consecutive TCP segments merged into one write.
extension DataPath {
    /// Receives and handles what the socket has, a bounded number of datagrams per call.
    public func receiveFromPeer(now: Moment) {
        // A new turn: handshakes may again cost a few Diffie-Hellmans.
        link.startTurn()
        // Datagrams handled this turn (one buffer may hold many): a turn is bounded by work,
        // so the other direction is served soon.
        var handled = 0
        let batchSize = wan.receiveBatchCapacity
        while handled < batchSize * Self.batchesPerTurn {
            let result = wan.receive { datagram, source in
                handled += 1
                handle(datagram: datagram, from: source, now: now)
            }
            coalescer.flush(write: writeToLAN)
            switch result {
            case .completed(let buffers) where buffers >= batchSize: continue
            case .completed, .wouldBlock: return
            case .failed, .tooLarge:
                counters.drop(.receiveFailed)
                return
            }
        }
    }

    @inline(__always)
    private func handle(datagram: UnsafeRawBufferPointer, from source: EndpointAddress, now: Moment) {
        guard let type = WireFormat.messageType(of: datagram) else {
            counters.drop(.malformed)
            return
        }
        switch type {
        case .handshakeInitiation:
            if let reply = link.receiveInitiation(datagram, from: source, now: now, counters: &counters) {
                reply.withUnsafeBytes { _ = sendNow($0, to: source) }
            }
        case .handshakeResponse:
            var cookieReply: [UInt8]?
            if link.receiveResponse(datagram, from: source, now: now, counters: &counters, reply: &cookieReply) {
                roam(to: source)
                events.establishedAsInitiator = true
                noteTransitions(now: now)
                // Confirms the new session to the responder, which waits for a first message.
                sendControl(.keepalive, stamp: now.nanoseconds, now: now)
            }
            cookieReply?.withUnsafeBytes { _ = sendNow($0, to: source) }
        case .cookieReply:
            link.receiveCookieReply(datagram, now: now, counters: &counters)?.withUnsafeBytes { _ = sendNow($0, to: source) }
        case .data:
            guard let opened = open(datagram, type: type, from: source, now: now), isOurNetwork(opened) else { return }
            deliver(frame: UnsafeMutableRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), now: now)
        case .fragment:
            guard let opened = open(datagram, type: type, from: source, now: now), isOurNetwork(opened) else { return }
            reassemble(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), now: now)
        case .control:
            guard let opened = open(datagram, type: type, from: source, now: now) else { return }
            handleControl(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), now: now)
        }
    }

    @inline(__always)
    private func open(_ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, from source: EndpointAddress, now: Moment) -> Session.Opened? {
        guard let opened = link.receiveTransport(datagram, type: type, now: now, into: frameBuffer, counters: &counters) else {
            return nil
        }
        roam(to: source)
        if opened.establishedSession {
            events.establishedAsResponder = true
            // Carrier on before the first frame from the peer is written to the LAN.
            noteTransitions(now: now)
        }
        return opened
    }

    @inline(__always)
    private func isOurNetwork(_ opened: Session.Opened) -> Bool {
        guard opened.networkID == networkID.rawValue else {
            counters.drop(.unknownNetwork)
            return false
        }
        return true
    }

    private func reassemble(_ plaintext: UnsafeRawBufferPointer, now: Moment) {
        counters.fragmentsReceived &+= 1
        guard let header = FragmentHeader(plaintext) else {
            counters.drop(.malformed)
            return
        }
        let piece = UnsafeRawBufferPointer(rebasing: plaintext[WireFormat.fragmentHeaderLength...])
        switch reassembler.add(header, piece: piece, now: now, counters: &counters) {
        case .incomplete:
            break
        case .dropped(let reason):
            counters.drop(reason)
        case .complete(let frame):
            counters.framesReassembled &+= 1
            deliver(frame: frame, now: now)
        }
    }

    @inline(__always)
    private func deliver(frame: UnsafeMutableRawBufferPointer, now: Moment) {
        counters.framesFromPeer &+= 1
        counters.bytesFromPeer &+= UInt64(frame.count)
        guard let layout = FrameLayout(frame: UnsafeRawBufferPointer(frame)) else {
            counters.drop(.malformed)
            return
        }
        let header = EthernetHeader(frame: UnsafeRawBufferPointer(frame), layout: layout)
        if let refusal = forwarder.frameFromPeer(header, peer: link.peerID, now: now, holdTime: macHoldTime, counters: &counters) {
            counters.drop(refusal)
            if refusal != .macUnlearnable { noteRefusedClaim(header.source, refusal, now: now) }
            return
        }
        // What this LAN's bridge would flood is metered as it is on the way out.
        if forwarder.isFlooded(header.destination, now: now), !stormFromPeer.admit(header.destination, now: now) {
            counters.drop(StormControl.floodClass(of: header.destination).dropReason)
            return
        }
        // The SYN-ACK's MSS bounds what this side's hosts send: clamp it to this side's path.
        if MSSClamp.clamp(frame, layout: layout, largestFrame: pathMTU.largestWholeFrame) {
            counters.mssClamped &+= 1
        }
        coalescer.add(UnsafeRawBufferPointer(frame), layout: layout, write: writeToLAN)
    }

    @inline(__always)
    private func writeToLAN(_ frame: UnsafeRawBufferPointer, segmentation: UnsafeRawBufferPointer?, frames: Int, bytes: Int) {
        switch lan.write(frame, header: segmentation) {
        case .completed:
            counters.framesToLAN &+= UInt64(frames)
            counters.bytesToLAN &+= UInt64(bytes)
            if frames > 1 { counters.framesCoalesced &+= UInt64(frames) }
        case .wouldBlock, .failed, .tooLarge:
            counters.drop(.sendFailed, count: frames)
        }
    }
}
