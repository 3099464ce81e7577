import CausewayCore
import CausewayLinux

/// WAN to LAN: datagrams from the peer checked, opened, put back together when split, and
/// written to the TAP, a flow's consecutive TCP segments merged into one write.
extension DataPlane {
    func receiveFromPeer(now: Moment) {
        // Datagrams handled this turn (one buffer may hold many): a turn is bounded by work,
        // so the other direction is served soon.
        var handled = 0
        while handled < Self.batchSize * Self.batchesPerTurn {
            guard let count = try? socket.receive(into: receiveBatch), count > 0 else { return }
            for index in 0..<count {
                let source = receiveBatch.source(index)
                receiveBatch.forEachDatagram(in: index) { datagram in
                    handled += 1
                    handle(datagram: datagram, from: source, now: now)
                }
            }
            coalescer.flush(write: writeToLAN)
            if count < Self.batchSize { return }
        }
    }

    @inline(__always)
    private func handle(datagram: UnsafeRawBufferPointer, from source: SocketAddress, now: Moment) {
        guard let type = WireFormat.messageType(of: datagram) else {
            counters.drop(.malformed)
            return
        }
        switch type {
        case .handshakeInitiation:
            if let reply = link.receiveInitiation(datagram, from: source.source, now: now, counters: &counters) {
                reply.withUnsafeBytes { _ = socket.send($0, to: source) }
            }
        case .handshakeResponse:
            var cookieReply: [UInt8]?
            if link.receiveResponse(datagram, from: source.source, now: now, counters: &counters, reply: &cookieReply) {
                roam(to: source)
                logger.debug("session established", metadata: ["peer": "\(peerAddress)", "role": "initiator"])
                // Confirms the new session to the responder, which waits for a first message.
                sendControl(.keepalive, stamp: now.nanoseconds, now: now)
            }
            cookieReply?.withUnsafeBytes { _ = socket.send($0, to: source) }
        case .cookieReply:
            link.receiveCookieReply(datagram, now: now, counters: &counters)?.withUnsafeBytes { _ = socket.send($0, to: source) }
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
    private func open(_ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, from source: SocketAddress, now: Moment) -> Session.Opened? {
        let established = counters.sessionsEstablished
        guard let opened = link.receiveTransport(datagram, type: type, now: now, into: frameBuffer, counters: &counters) else {
            return nil
        }
        roam(to: source)
        if counters.sessionsEstablished != established {
            logger.debug("session established", metadata: ["peer": "\(peerAddress)", "role": "responder"])
        }
        return opened
    }

    @inline(__always)
    private func isOurNetwork(_ opened: Session.Opened) -> Bool {
        guard opened.networkID == configuration.networkID.rawValue else {
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
        forwarder.frameFromPeer(header, peer: link.peerID, now: now, counters: &counters)
        // The SYN-ACK's MSS bounds what this side's hosts send: clamp it to this side's path.
        if MSSClamp.clamp(frame, layout: layout, largestFrame: pathMTU.largestWholeFrame) {
            counters.mssClamped &+= 1
        }
        coalescer.add(UnsafeRawBufferPointer(frame), layout: layout, write: writeToLAN)
    }

    @inline(__always)
    private func writeToLAN(_ frame: UnsafeRawBufferPointer, segmentation: UnsafeRawBufferPointer?, frames: Int, bytes: Int) {
        let written = if let segmentation { tap.write(frame, header: segmentation) } else { tap.write(frame) }
        if written {
            counters.framesToLAN &+= UInt64(frames)
            counters.bytesToLAN &+= UInt64(bytes)
            if frames > 1 { counters.framesCoalesced &+= UInt64(frames) }
        } else {
            counters.drop(.sendFailed, count: frames)
        }
    }
}
