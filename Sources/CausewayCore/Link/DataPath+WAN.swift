/// WAN to LAN: datagrams checked by type and length, handshakes answered, transport messages
/// found their peer by index and opened, split frames put back together, and frames written
/// to the LAN, a flow's consecutive TCP segments or UDP datagrams merged into one write; on a
/// hub, frames relayed to the other peers as well.
extension DataPath {
    /// Receives and handles what the socket has, a bounded number of datagrams per call.
    public func receiveFromPeer(now: Moment) {
        catchUpWithOtherLanes(now: now)
        // Sessions a handshake made in this call go to the other lanes before it returns.
        defer { postIfChanged() }
        // A new turn: handshakes may again cost a few Diffie-Hellmans.
        desk.startTurn()
        // Datagrams handled this turn (one buffer may hold many): a turn is bounded by work,
        // so the other direction is served soon.
        var handled = 0
        let batchSize = wan.receiveBatchCapacity
        while handled < batchSize * Self.batchesPerTurn {
            let result = wan.receive { datagram, source in
                handled += 1
                handle(datagram: datagram, from: source, now: now)
            }
            tcpCoalescer.flush(write: writeToLAN)
            udpCoalescer.flush(write: writeToLAN)
            if relaysPrepared > 0 {
                flush(relaysPrepared, now: now)
                relaysPrepared = 0
            }
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
        // Handshakes and control messages are lane 0's, which the kernel steers them to.
        guard lane.isPrimary || type == .data || type == .fragment else {
            counters.drop(.wrongLane)
            return
        }
        // Everything but a whole frame may move a deadline: a session, a probe's answer, a
        // frame put back together within a time limit.
        if type != .data { bringTimersForward() }
        switch type {
        case .handshakeInitiation:
            receiveInitiation(datagram, from: source, now: now)
        case .handshakeResponse:
            guard let peer = peer(named: Handshake.receiverIndex(of: datagram, type: type)) else {
                counters.responsesReceived &+= 1
                counters.drop(.unknownIndex)
                return
            }
            var cookieReply: [UInt8]?
            if peer.link.receiveResponse(datagram, from: source, now: now, counters: &peer.counters, reply: &cookieReply) {
                peer.roam(to: source)
                peer.events.establishedAsInitiator = true
                noteTransitions(of: peer, now: now)
                // The other lanes seal with the new session from the peer's first frames on.
                postIfChanged()
                // Confirms the new session to the responder, which waits for a first message.
                sendControl(.keepalive, stamp: now.nanoseconds, to: peer, now: now)
            }
            cookieReply?.withUnsafeBytes { _ = sendNow($0, to: source, counting: peer) }
        case .cookieReply:
            guard let peer = peer(named: Handshake.receiverIndex(of: datagram, type: type)) else {
                counters.drop(.unknownIndex)
                return
            }
            peer.link.receiveCookieReply(datagram, now: now, counters: &peer.counters)?.withUnsafeBytes { _ = sendNow($0, to: source, counting: peer) }
        case .data:
            guard let (peer, opened) = open(datagram, type: type, from: source, now: now), isOurNetwork(opened, peer) else { return }
            deliver(frame: UnsafeMutableRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), from: peer, now: now)
        case .fragment:
            guard let (peer, opened) = open(datagram, type: type, from: source, now: now), isOurNetwork(opened, peer) else { return }
            reassemble(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), from: peer, now: now)
        case .control:
            guard let (peer, opened) = open(datagram, type: type, from: source, now: now) else { return }
            handleControl(UnsafeRawBufferPointer(rebasing: frameBuffer[0..<opened.payloadLength]), from: peer, now: now)
        }
    }

    /// The peer a session index of ours belongs to (its low bits: PeerSlots).
    @inline(__always)
    private func peer(named index: UInt32) -> Peer? {
        peer(inSlot: PeerSlots.slot(ofIndex: index))
    }

    /// An initiation names its sender only inside its sealed part: the desk's checks come
    /// first, for every peer alike, then the opened static key picks the peer that answers.
    private func receiveInitiation(_ datagram: UnsafeRawBufferPointer, from source: EndpointAddress, now: Moment) {
        // mac1 is under our own key whichever peer's identity is used; the peer last seen at
        // this address lets the guard tell an echo of our own initiation to it from junk
        // (from any other address, a failed mac1 is junk: no second HMAC).
        let peerAtSource = peers.first { $0.address == source }
        guard let anyPeer = peerAtSource ?? peers.first else { return }
        var reply: [UInt8]?
        var sender: Peer?
        var refusal: DropReason?
        if let (opened, _) = desk.openInitiation(
            datagram, from: source, keys: anyPeer.link.identity.macs, local: localKey,
            identityOf: { staticKey in
                sender = peers.first { $0.publicKey.bytes == staticKey }
                if sender == nil { noteStranger(staticKey, from: source, now: now) }
                return sender?.link.identity
            },
            now: now, counters: &counters, cookieReply: &reply, refusal: &refusal, checkingEcho: peerAtSource != nil
        ), let sender {
            reply = sender.link.answer(opened, now: now, counters: &sender.counters)
        }
        // A peer's own address sending what is not addressed to our key: it names another.
        if refusal == .badMAC1, let peerAtSource, peerAtSource.noteMisaddressedHandshake(now: now),
           peerAtSource.keyWarningDue(.addressedToAnotherKey, now: now) {
            peerAtSource.events.addressedToAnotherKey = true
        }
        // The other lanes open with the answered session before the peer can seal with it.
        postIfChanged()
        reply?.withUnsafeBytes { _ = sendNow($0, to: source, counting: sender) }
    }

    @inline(__always)
    private func open(_ datagram: UnsafeRawBufferPointer, type: WireFormat.MessageType, from source: EndpointAddress, now: Moment) -> (Peer, Session.Opened)? {
        let index = Session.receiverIndex(of: datagram)
        catchUpIfPostedSince(forSessionIndex: index)
        guard let peer = peer(named: index) else {
            counters.drop(.unknownSession)
            return nil
        }
        guard let opened = peer.link.receiveTransport(datagram, type: type, now: now, into: frameBuffer, counters: &peer.counters) else {
            return nil
        }
        // Where the peer is, is lane 0's to say: another lane tells lane 0 (LaneBoard).
        if lane.isPrimary { peer.roam(to: source) } else { noteOpened(opened, from: peer, source: source, now: now) }
        // Up again after a silence, or a new session: the timers and the log hear of it.
        if (lane.isPrimary && !peer.wasUp) || opened.establishedSession { bringTimersForward() }
        if opened.establishedSession {
            peer.events.establishedAsResponder = true
            // Carrier on before the first frame from the peer is written to the LAN.
            noteTransitions(of: peer, now: now)
        }
        return (peer, opened)
    }

    @inline(__always)
    private func isOurNetwork(_ opened: Session.Opened, _ peer: Peer) -> Bool {
        guard opened.networkID == networkID.rawValue else {
            peer.counters.drop(.unknownNetwork)
            return false
        }
        return true
    }

    private func reassemble(_ plaintext: UnsafeRawBufferPointer, from peer: Peer, now: Moment) {
        peer.counters.fragmentsReceived &+= 1
        guard let header = FragmentHeader(plaintext) else {
            peer.counters.drop(.malformed)
            return
        }
        let piece = UnsafeRawBufferPointer(rebasing: plaintext[WireFormat.fragmentHeaderLength...])
        switch reassembler.add(header, piece: piece, from: peer.slot, now: now, counters: &peer.counters) {
        case .incomplete:
            break
        case .dropped(let reason):
            peer.counters.drop(reason)
        case .complete(let frame):
            peer.counters.framesReassembled &+= 1
            deliver(frame: frame, from: peer, now: now)
        }
    }

    @inline(__always)
    private func deliver(frame: UnsafeMutableRawBufferPointer, from peer: Peer, now: Moment) {
        peer.counters.framesFromPeer &+= 1
        peer.counters.bytesFromPeer &+= UInt64(frame.count)
        guard let layout = FrameLayout(frame: UnsafeRawBufferPointer(frame)) else {
            peer.counters.drop(.malformed)
            return
        }
        let header = EthernetHeader(frame: UnsafeRawBufferPointer(frame), layout: layout)
        let fate = forwarder.frameFromPeer(
            header, peer: peer.slot, incarnation: peer.incarnation, now: now, holdTime: macHoldTime, isHub: isHub, counters: &peer.counters
        )
        // What this LAN's bridge would flood is metered as it is on the way out, and a hub
        // meters what it would flood to its other peers the same way, before any copy.
        let relay: Forwarder.Relay?, metered: Bool
        switch fate {
        case .refused(let refusal):
            peer.counters.drop(refusal)
            if refusal != .macUnlearnable { noteRefusedClaim(header.source, refusal, by: peer, now: now) }
            return
        case .toLAN(let flooded): (relay, metered) = (nil, flooded)
        case .relayed(let decision): (relay, metered) = (decision, decision == .lanAndOtherPeers)
        }
        if metered, !peer.stormFromPeer.admit(header.destination, now: now) {
            peer.counters.drop(StormControl.floodClass(of: header.destination).dropReason)
            return
        }
        if let relay, !self.relay(frame, relay, layout: layout, destination: header.destination, from: peer, now: now) { return }
        // The SYN-ACK's MSS bounds what this side's hosts send: clamp it to this side's path.
        if MSSClamp.clamp(frame, layout: layout, largestFrame: peer.pathMTU.largestWholeFrame) {
            peer.counters.mssClamped &+= 1
        }
        // Frames leave in order: whichever coalescer takes this one, the other's merge goes first.
        if layout.transportProtocol == IPProtocol.udp, mergesDatagrams {
            tcpCoalescer.flush(write: writeToLAN)
            udpCoalescer.add(UnsafeRawBufferPointer(frame), layout: layout, write: writeToLAN)
        } else {
            udpCoalescer.flush(write: writeToLAN)
            tcpCoalescer.add(UnsafeRawBufferPointer(frame), layout: layout, write: writeToLAN)
        }
    }

    /// A hub passes a frame from one peer on to the others, as `decision` says: to the one
    /// peer its destination was learned from, or, flooded, to every other peer with a session.
    /// Returns whether the frame goes to this LAN as well. Never back to its sender: with
    /// spokes that never forward, no frame can come round again. Link-local control frames
    /// (01:80:c2:00:00:0x, which no meter counts) stop here, as a bridge never forwards them
    /// from one port to another: relaying them would multiply an unmetered stream by the
    /// number of peers.
    private func relay(
        _ frame: UnsafeMutableRawBufferPointer, _ decision: Forwarder.Relay, layout: FrameLayout, destination: MACAddress,
        from source: Peer, now: Moment
    ) -> Bool {
        switch decision {
        case .lanOnly:
            return true
        case .nowhere:
            // Behind the peer that sent it: that site's own bridge has it already.
            source.counters.suppressedLocal &+= 1
            return false
        case .peer(let targetSlot):
            let target = peer(inSlot: targetSlot)
            guard let route = target?.route(now: now) else {
                target?.counters.drop(.noSession)
                if let target { frameWaiting(for: target, now: now) }
                return false
            }
            relaysPrepared = makeRoom(relaysPrepared, now: now)
            let area = UnsafeMutableRawBufferPointer(rebasing: frameArea(slot: relaysPrepared)[0..<frame.count])
            area.copyMemory(from: UnsafeRawBufferPointer(frame))
            relaysPrepared += send(area, layout: layout, route: route, slot: relaysPrepared, relayed: true)
            return false
        case .lanAndOtherPeers:
            guard !StormControl.isLinkLocalControl(destination) else { return true }
            let targets = chooseFloodTargets(for: destination, segments: 1, except: source, now: now)
            relaysPrepared = flood(frame, nil, layout: layout, targets: targets, relayed: true, into: relaysPrepared, now: now)
            return true
        }
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
