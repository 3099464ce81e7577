/// What the lanes of a gateway tell each other (LaneBoard): lane 0 posts its peers and their
/// sessions, the others mirror them and ask lane 0 for what only it does, and every lane
/// passes on the addresses it learns.
extension DataPath {
    /// Lane 0 posts its peers when anything another lane uses changed since its last post:
    /// compared in place, so an unchanged turn costs no allocation.
    func postIfChanged() {
        guard let board, lane.isPrimary else { return }
        if posted.count == peers.count {
            var index = 0
            while index < peers.count, posted[index].describes(peers[index]) { index += 1 }
            if index == peers.count { return }
        }
        posted = peers.map(LaneBoard.PeerState.init)
        board.post(posted)
    }

    /// At the start of each batch: lane 0 takes the other lanes' requests; another lane
    /// mirrors lane 0's latest post; then every lane takes what the others learned. An atomic
    /// load for each when there is nothing.
    @inline(__always)
    func catchUpWithOtherLanes(now: Moment) {
        guard let board else { return }
        if lane.isPrimary {
            takeRequests(from: board, now: now)
        } else if board.generation != adoptedGeneration {
            mirrorPost(of: board)
        }
        board.takeShared(for: lane.index) { learned in
            // Learned behind a peer this lane no longer has in that slot: dropped.
            if case .remote(let slot) = learned.location, peer(inSlot: slot)?.incarnation != learned.incarnation { return }
            forwarder.learnFromOtherLane(learned, now: now, holdTime: macHoldTime)
        }
    }

    /// Another lane takes lane 0's peers as posted: the same peers in the same slots (a peer
    /// lane 0 replaced is replaced here too, with what was learned behind it forgotten), and
    /// their sessions, addresses, path MTUs and meters.
    private func mirrorPost(of board: LaneBoard) {
        let (generation, states) = board.read()
        adoptedGeneration = generation
        for peer in peers where !states.contains(where: { $0.slot == peer.slot && $0.incarnation == peer.incarnation }) {
            remove(peer)
        }
        for state in states {
            let peer: Peer
            if let held = self.peer(inSlot: state.slot), held.incarnation == state.incarnation {
                peer = held
            } else {
                peer = Peer(
                    slot: state.slot, incarnation: state.incarnation, configuration: state.configuration,
                    link: PeerLink(peerID: state.slot, identity: state.identity, timing: timing, desk: desk, lane: lane),
                    overIPv6: overIPv6, storm: (state.stormToPeer, state.stormFromPeer), heard: state.heard
                )
                place(peer)
            }
            peer.configuration = state.configuration
            peer.link.adopt(state.sessions)
            peer.address = state.address
            peer.pathMTU = state.pathMTU
            peer.stormToPeer = state.stormToPeer
            peer.stormFromPeer = state.stormFromPeer
            peer.heard = state.heard
        }
    }

    /// Lane 0 does what the other lanes asked, for peers that are still the ones they meant.
    private func takeRequests(from board: LaneBoard, now: Moment) {
        for peer in peers {
            // A peer down that another lane heard from again: up at the next turn.
            if let heard = peer.heard.latest, peer.link.heardOnAnotherLane(at: min(heard, now)), !peer.wasUp {
                bringTimersForward()
            }
        }
        if board.takeHandshakeRequest() {
            for peer in peers where peer.link.sendingSession(now: now) == nil {
                if peer.link.frameWaiting(now: now) { bringTimersForward() }
            }
        }
        for request in board.takeRequests() {
            bringTimersForward()
            switch request {
            case .confirm(let slot, let incarnation, let localIndex):
                guard let peer = peer(inSlot: slot), peer.incarnation == incarnation,
                      peer.link.confirmNext(localIndex: localIndex, now: now, counters: &peer.counters)
                else { continue }
                peer.events.establishedAsResponder = true
                noteTransitions(of: peer, now: now)
            case .roam(let slot, let incarnation, let address):
                guard let peer = peer(inSlot: slot), peer.incarnation == incarnation else { continue }
                peer.roam(to: address)
            }
        }
        postIfChanged()
    }

    /// On another lane than 0, after a message of `peer` opened: what only lane 0 may act on
    /// goes to it, once per session and per address. Lane 0 acts on it itself.
    @inline(__always)
    func noteOpened(_ opened: Session.Opened, from peer: Peer, source: EndpointAddress, now: Moment) {
        guard let board, !lane.isPrimary else { return }
        if now.since(peer.heardNotedAt) >= HeardAt.interval {
            peer.heardNotedAt = now
            peer.heard.note(now)
        }
        if let index = opened.openedUnderNext, peer.confirmationAsked != index {
            peer.confirmationAsked = index
            board.ask(.confirm(slot: peer.slot, incarnation: peer.incarnation, localIndex: index))
        }
        if source != peer.address, source != peer.roamAsked {
            peer.roamAsked = source
            board.ask(.roam(slot: peer.slot, incarnation: peer.incarnation, address: source))
        }
    }

    /// A transport message names a session this lane does not hold: if lane 0 posted since
    /// the batch began (a rekey, as the peer starts using it), the lane catches up first.
    @inline(__always)
    func catchUpIfPostedSince(forSessionIndex index: UInt32) {
        guard let board, !lane.isPrimary,
              peer(inSlot: PeerSlots.slot(ofIndex: index))?.link.holdsSession(localIndex: index) != true,
              board.generation != adoptedGeneration
        else { return }
        mirrorPost(of: board)
    }

    /// A frame for `peer` found no session: lane 0 starts handshakes again if they gave up,
    /// at the next turn. Otherwise one is on its way, or the peer has no address to send it
    /// to: nothing for the timers, so a hub flooding past an absent spoke does not run them
    /// after every turn.
    func frameWaiting(for peer: Peer, now: Moment) {
        guard lane.isPrimary else {
            board?.askForHandshake()
            return
        }
        if peer.link.frameWaiting(now: now) { bringTimersForward() }
    }
}
