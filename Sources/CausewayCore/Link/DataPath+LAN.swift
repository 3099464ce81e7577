/// LAN to WAN. For each frame read from the LAN, in this order: its layout (one walk over
/// its headers: FrameLayout), the switching decision and the session; only then, for a frame
/// that crosses, segmentation (a large TCP frame cut into the segments a NIC would send), MSS
/// clamping, and sealing whole or as fragments into send slots, sent in batches. A frame that
/// does not cross is never cut.
extension DataPath {
    /// Reads and forwards what the LAN has, a bounded number of batches per call.
    public func forwardFromLAN(now: Moment) {
        catchUpWithOtherLanes(now: now)
        let batchSize = wan.sendSlotCount
        for _ in 0..<Self.batchesPerTurn {
            var prepared = 0
            // Frames handled, a large frame's segments each counted: a turn is bounded by
            // work, so the other direction is served soon.
            var frames = 0
            var drained = false
            while frames < batchSize {
                prepared = makeRoom(prepared, now: now)
                // Read straight into the slot, where the frame is then sealed in place.
                let area = frameArea(slot: prepared)
                let result = lan.read(into: area, header: lanHeader)
                guard case .completed(let length) = result else {
                    // Nothing left to read; a failed read is counted, never swallowed.
                    if result != .wouldBlock { counters.drop(.receiveFailed) }
                    drained = true
                    break
                }
                frames += 1
                guard length <= area.count else {
                    counters.drop(.oversized)
                    continue
                }
                let (next, segments) = forward(frame: UnsafeMutableRawBufferPointer(rebasing: area[0..<length]), slot: prepared, now: now)
                prepared = next
                frames += segments - 1
            }
            if prepared > 0 { flush(prepared, now: now) }
            if drained { return }
        }
    }

    /// Where a frame goes in send slot `slot`: after the room for the data header, before the
    /// room for the tag.
    @inline(__always)
    func frameArea(slot: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = wan.sendSlot(slot)
        return UnsafeMutableRawBufferPointer(rebasing: buffer[WireFormat.dataHeaderLength..<(buffer.count - WireFormat.tagLength)])
    }

    /// Sends the batch when it lacks room for the most fragments one frame can need; returns
    /// the slot to fill next.
    @inline(__always)
    func makeRoom(_ prepared: Int, now: Moment) -> Int {
        guard prepared + Reassembler.maximumPieces > wan.sendSlotCount else { return prepared }
        flush(prepared, now: now)
        return 0
    }

    /// Decides for one frame read into send slot `slot` and prepares what crosses into slots
    /// from `slot` on. Returns the slot to fill next (full batches on the way are sent) and
    /// how many frames the LAN's wire carried (one, or the segments of a large TCP frame).
    @inline(__always)
    private func forward(frame: UnsafeMutableRawBufferPointer, slot: Int, now: Moment) -> (next: Int, segments: Int) {
        // The one walk over the frame's headers; everything after reads its offsets.
        // A checksum left to fill in must be the transport's: checked before anything is read.
        guard let layout = FrameLayout(frame: UnsafeRawBufferPointer(frame)),
              TCPSegmentation.checksumRequestFits(UnsafeRawBufferPointer(lanHeader), layout: layout, frameLength: frame.count)
        else {
            counters.framesFromLAN &+= 1
            counters.bytesFromLAN &+= UInt64(frame.count)
            counters.drop(.malformed)
            return (slot, 1)
        }
        let header = EthernetHeader(frame: UnsafeRawBufferPointer(frame), layout: layout)
        let segmentation = TCPSegmentation(frame: UnsafeRawBufferPointer(frame), layout: layout, header: UnsafeRawBufferPointer(lanHeader))
        let segments = segmentation?.segments ?? 1
        counters.framesFromLAN &+= UInt64(segments)
        counters.bytesFromLAN &+= UInt64(frame.count + (segments - 1) * (segmentation?.headersLength ?? 0))

        switch forwarder.frameFromLAN(header, now: now, counters: &counters) {
        case .suppress:
            counters.suppressedLocal &+= UInt64(segments)
            return (slot, segments)
        case .sendToPeer(let peerSlot):
            let target = peer(inSlot: peerSlot)
            guard let route = target?.route(now: now) else {
                if let target { frameWaiting(for: target, now: now) }
                target?.counters.drop(.noSession, count: segments)
                return (slot, segments)
            }
            if let segmentation {
                counters.framesSegmented &+= 1
                if let next = cutInPlace(frame, segmentation, layout: layout, route: route, slot: slot) {
                    return (next, segments)
                }
                // Its segments refill the slots from this one on, over batches: the frame moves out of the way.
                let whole = moveAside(frame)
                return (cut(whole, segmentation, layout: layout, route: route, from: slot, now: now), segments)
            }
            guard TCPSegmentation.completeChecksum(frame, header: UnsafeRawBufferPointer(lanHeader)) else {
                counters.drop(.malformed)
                return (slot, 1)
            }
            return (slot + send(frame, layout: layout, route: route, slot: slot), 1)
        case .flood:
            // Who takes it comes first: a storm the meters refuse costs no copy.
            let targets = chooseFloodTargets(for: header.destination, segments: segments, except: nil, now: now)
            guard targets > 0 else { return (slot, segments) }
            if segmentation == nil, !TCPSegmentation.completeChecksum(frame, header: UnsafeRawBufferPointer(lanHeader)) {
                counters.drop(.malformed)
                return (slot, 1)
            }
            if targets == 1, segmentation == nil, let route = peerSlots[floodTargets[0]]?.route(now: now) {
                // One peer, as two sites have: sealed in place, as unicast is.
                return (slot + send(frame, layout: layout, route: route, slot: slot), 1)
            }
            // Each peer gets its own copy, sealed under its own session: the frame moves out
            // of the slot the copies fill.
            if segmentation != nil { counters.framesSegmented &+= 1 }
            let whole = moveAside(frame)
            return (flood(whole, segmentation, layout: layout, targets: targets, relayed: false, into: slot, now: now), segments)
        }
    }

    /// Moves a frame out of the send slot it was read into, to `lanFrame`.
    @inline(__always)
    private func moveAside(_ frame: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        lanFrame.copyMemory(from: UnsafeRawBufferPointer(frame))
        return UnsafeMutableRawBufferPointer(rebasing: lanFrame[0..<frame.count])
    }

    /// Chooses the peers a flooded frame to `destination` goes to: every peer but `source`
    /// (the peer a hub relays it from; nil for a frame from this LAN) whose storm meter admits
    /// it and that has a session. Their slots go into `floodTargets`; returns how many. The
    /// others' drops are counted. The meter comes first: in a storm it refuses nearly every
    /// frame, and that must cost as little as it can.
    func chooseFloodTargets(for destination: MACAddress, segments: Int, except source: Peer?, now: Moment) -> Int {
        var count = 0
        for peer in peers where peer !== source {
            guard peer.stormToPeer.admit(destination, now: now) else {
                peer.counters.drop(StormControl.floodClass(of: destination).dropReason, count: segments)
                continue
            }
            guard peer.canSend(now: now) else {
                peer.counters.drop(.noSession, count: segments)
                frameWaiting(for: peer, now: now)
                continue
            }
            peer.counters.flooded &+= UInt64(segments)
            floodTargets[count] = peer.slot
            count += 1
        }
        return count
    }

    /// Sends a flooded frame (whole, or cut as `segmentation` says) to the first `targets`
    /// peers of `floodTargets`, each a copy sealed under its own session, into slots from
    /// `slot` on; returns the slot to fill next. A flood to N peers is N datagrams in the
    /// same batch.
    func flood(
        _ frame: UnsafeMutableRawBufferPointer, _ segmentation: TCPSegmentation?, layout: FrameLayout, targets: Int, relayed: Bool,
        into slot: Int, now: Moment
    ) -> Int {
        var prepared = slot
        for index in 0..<targets {
            guard let route = peerSlots[floodTargets[index]]?.route(now: now) else { continue }
            if let segmentation {
                prepared = cut(frame, segmentation, layout: layout, route: route, from: prepared, now: now)
                continue
            }
            prepared = makeRoom(prepared, now: now)
            let area = UnsafeMutableRawBufferPointer(rebasing: frameArea(slot: prepared)[0..<frame.count])
            area.copyMemory(from: UnsafeRawBufferPointer(frame))
            prepared += send(area, layout: layout, route: route, slot: prepared, relayed: relayed)
        }
        return prepared
    }

    /// Cuts a large TCP frame into its segments where it was read, in send slot `slot`, with
    /// no copy of the whole: segment i is written straight from the frame into slot `slot + i`,
    /// and segment 0, last, in place (its bytes are already where they go). Returns the slot
    /// to fill next; nil, with nothing written, when the segments do not all fit the batch or
    /// do not cross whole, and the frame must be moved aside and cut as batches allow.
    private func cutInPlace(
        _ frame: UnsafeMutableRawBufferPointer, _ plan: TCPSegmentation, layout: FrameLayout, route: Route, slot: Int
    ) -> Int? {
        guard slot + plan.segments <= wan.sendSlotCount, route.session.canSeal(plan.segments, lane: lane.index),
              plan.headersLength + plan.segmentSize <= route.peer.pathMTU.largestWholeFrame
        else { return nil }
        let whole = UnsafeRawBufferPointer(frame)
        var next = slot + 1
        let whereTheyLie = sealsWhereTheyLie(plan, route: route)
        for index in 1..<plan.segments {
            if whereTheyLie {
                next += sealSegment(index, of: frame, plan, layout: layout, route: route, slot: next)
                continue
            }
            let area = frameArea(slot: next)
            guard let length = plan.writeSegment(index, of: whole, into: area) else {
                counters.drop(.oversized)
                continue
            }
            next += send(UnsafeMutableRawBufferPointer(rebasing: area[0..<length]), layout: layout, route: route, slot: next)
        }
        // The guard leaves nothing that refuses to seal; were it to happen, what was prepared
        // behind the first segment would not be sent either.
        guard let length = plan.writeSegment(0, of: whole, into: frame),
              send(UnsafeMutableRawBufferPointer(rebasing: frame[0..<length]), layout: layout, route: route, slot: slot) == 1
        else { return slot }
        return next
    }

    /// Seals segment `index` of a large TCP frame that crosses whole into send slot `slot`,
    /// from where it lies in `frame`: its headers are written over the bytes just before its
    /// payload (kept aside in `segmentHeaders` and put back after), so the cipher reads the
    /// segment in one piece and writes the ciphertext straight into the slot. The payload is
    /// never copied as plaintext, and the frame is as it was afterwards (a flood cuts it again
    /// for the next peer). Returns 1, or 0 when it cannot.
    @inline(__always)
    private func sealSegment(
        _ index: Int, of frame: UnsafeMutableRawBufferPointer, _ plan: TCPSegmentation, layout: FrameLayout, route: Route, slot: Int
    ) -> Int {
        let payload = plan.payload(index, of: UnsafeRawBufferPointer(frame))
        // The segment's headers end where its payload starts.
        let start = index * plan.segmentSize
        let segment = UnsafeMutableRawBufferPointer(rebasing: frame[start..<(start + plan.headersLength + payload.count)])
        let headers = UnsafeMutableRawBufferPointer(rebasing: segment[0..<plan.headersLength])
        let kept = UnsafeMutableRawBufferPointer(rebasing: segmentHeaders[0..<plan.headersLength])
        kept.copyMemory(from: UnsafeRawBufferPointer(headers))
        defer { headers.copyMemory(from: UnsafeRawBufferPointer(kept)) }
        plan.writeHeaders(index, of: UnsafeRawBufferPointer(frame), into: headers)
        if MSSClamp.clamp(headers, layout: layout, largestFrame: route.peer.pathMTU.largestWholeFrame) {
            route.peer.counters.mssClamped &+= 1
        }
        return seal(.data, UnsafeRawBufferPointer(segment), route: route, slot: slot)
    }

    /// Whether `plan`'s segments can be sealed where they lie (`sealSegment`): each segment's
    /// headers fit over the end of the segment before it, never over the frame's own headers,
    /// which every segment's are made from; and the segments cross the path whole.
    @inline(__always)
    private func sealsWhereTheyLie(_ plan: TCPSegmentation, route: Route) -> Bool {
        plan.headersLength <= min(plan.segmentSize, segmentHeaders.count)
            && plan.headersLength + plan.segmentSize <= route.peer.pathMTU.largestWholeFrame
    }

    /// Cuts a large TCP frame into its segments, each sent like a frame read alone, into
    /// slots from `slot` on (sending full batches on the way); returns the slot to fill next.
    /// Every segment has the frame's headers, so the frame's layout is each segment's.
    private func cut(
        _ frame: UnsafeMutableRawBufferPointer, _ plan: TCPSegmentation, layout: FrameLayout, route: Route, from slot: Int, now: Moment
    ) -> Int {
        let whereTheyLie = sealsWhereTheyLie(plan, route: route)
        var prepared = slot
        for index in 0..<plan.segments {
            prepared = makeRoom(prepared, now: now)
            if whereTheyLie {
                prepared += sealSegment(index, of: frame, plan, layout: layout, route: route, slot: prepared)
                continue
            }
            // Each segment whole in its slot, for `send` to seal, answer or split.
            let area = frameArea(slot: prepared)
            guard let length = plan.writeSegment(index, of: UnsafeRawBufferPointer(frame), into: area) else {
                counters.drop(.oversized)
                continue
            }
            prepared += send(UnsafeMutableRawBufferPointer(rebasing: area[0..<length]), layout: layout, route: route, slot: prepared)
        }
        return prepared
    }

    /// Clamps a crossing frame's MSS and seals it, whole or as fragments, into slots from
    /// `slot` on. Returns how many slots now hold datagrams to send. A frame a hub relays is
    /// never answered with ICMP too-big: its sender is not on this LAN, where the answer
    /// would go; it is split instead.
    @inline(__always)
    func send(_ frame: UnsafeMutableRawBufferPointer, layout: FrameLayout, route: Route, slot: Int, relayed: Bool = false) -> Int {
        let largestFrame = route.peer.pathMTU.largestWholeFrame
        if MSSClamp.clamp(frame, layout: layout, largestFrame: largestFrame) {
            route.peer.counters.mssClamped &+= 1
        }
        guard frame.count > largestFrame else {
            return seal(.data, UnsafeRawBufferPointer(frame), route: route, slot: slot)
        }
        if answersTooBig, !relayed, answerTooBig(UnsafeRawBufferPointer(frame), layout: layout, largestFrame: largestFrame) {
            return 0
        }
        return fragment(UnsafeRawBufferPointer(frame), route: route, firstSlot: slot)
    }

    /// Seals `payload` as one message into send slot `slot`; returns 1, or 0 when it cannot.
    @inline(__always)
    private func seal(_ type: WireFormat.MessageType, _ payload: UnsafeRawBufferPointer, route: Route, slot: Int) -> Int {
        guard let length = route.session.seal(type, networkID: networkID, payload: payload, into: wan.sendSlot(slot), lane: lane.index) else {
            route.peer.counters.drop(.oversized)
            return 0
        }
        wan.prepare(slot, length: length, to: route.address)
        route.peer.counters.framesToPeer &+= 1
        route.peer.counters.bytesToPeer &+= UInt64(length)
        return 1
    }

    /// Cuts a frame too large for one datagram into fragments, sealed into consecutive send
    /// slots from `firstSlot` (where the frame itself was read, hence the copy first).
    private func fragment(_ frame: UnsafeRawBufferPointer, route: Route, firstSlot: Int) -> Int {
        guard frame.count <= WireFormat.maximumFrameLength else {
            route.peer.counters.drop(.oversized)
            return 0
        }
        oversizedFrame.copyMemory(from: frame)
        let (count, pieceLength) = Fragmentation.split(frameLength: frame.count, largestDatagram: route.peer.pathMTU.largestDatagram)
        // The count goes round below the lane's byte.
        let countBits = ~(UInt32.max << Self.frameIDLaneShift)
        nextFrameID = (nextFrameID & ~countBits) | ((nextFrameID &+ 1) & countBits)
        var header = FragmentHeader(frameID: nextFrameID, frameLength: UInt16(frame.count), offset: 0)
        var filled = 0
        for index in 0..<count {
            let offset = index * pieceLength
            let piece = min(pieceLength, frame.count - offset)
            header.offset = UInt16(offset)
            header.write(into: fragmentBuffer)
            UnsafeMutableRawBufferPointer(rebasing: fragmentBuffer[WireFormat.fragmentHeaderLength...])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: oversizedFrame[offset..<(offset + piece)]))
            let plaintext = UnsafeRawBufferPointer(rebasing: fragmentBuffer[0..<(WireFormat.fragmentHeaderLength + piece)])
            filled += seal(.fragment, plaintext, route: route, slot: firstSlot + filled)
        }
        route.peer.counters.framesFragmented &+= 1
        route.peer.counters.fragmentsSent &+= UInt64(filled)
        return filled
    }

    /// Answers the sending host as a router would; returns false when the frame gets no
    /// answer (not IP, IPv4 without DF, an ICMP error) and must be split instead.
    private func answerTooBig(_ frame: UnsafeRawBufferPointer, layout: FrameLayout, largestFrame: Int) -> Bool {
        guard let length = TooBigReply.build(for: frame, layout: layout, largestFrame: largestFrame, into: oversizedFrame) else { return false }
        switch lan.write(UnsafeRawBufferPointer(rebasing: oversizedFrame[0..<length]), header: nil) {
        case .completed: counters.tooBigSent &+= 1
        case .wouldBlock, .failed, .tooLarge: counters.drop(.sendFailed)
        }
        return true
    }

    /// Hands the first `count` prepared datagrams to the socket. Each was counted for its
    /// peer when sealed; what the socket refuses is counted here.
    func flush(_ count: Int, now: Moment) {
        let result = wan.flush(count)
        counters.drop(.sendFailed, count: result.failed)
        if let length = result.tooLargeLength {
            // The device now takes less than the path MTU in use: every peer's path searches
            // again, at once (the socket does not say which destination refused).
            for peer in peers where peer.pathMTU.largestDatagram >= length {
                peer.pathMTU.sendFailed(size: length + peer.pathMTU.headerOverhead, now: now)
            }
            bringTimersForward()
        }
    }
}
