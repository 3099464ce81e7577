import CausewayCore
import CausewayLinux

/// LAN to WAN: frames read from the TAP (large TCP frames cut into segments), switched,
/// clamped, sealed whole or as fragments, and sent in batches.
extension DataPlane {
    func forwardFromLAN(now: Moment) {
        for _ in 0..<Self.batchesPerTurn {
            var prepared = 0
            // Frames handled, a large frame's segments each counted: a turn is bounded by
            // work, so the other direction is served soon.
            var frames = 0
            var drained = false
            while frames < Self.batchSize {
                prepared = makeRoom(prepared, now: now)
                // Read straight into the slot, where the frame is then sealed in place.
                let area = frameArea(slot: prepared)
                guard let length = try? tap.read(into: area, header: lanHeader) else {
                    drained = true
                    break
                }
                frames += 1
                guard length <= area.count else {
                    counters.drop(.oversized)
                    continue
                }
                let frame = UnsafeMutableRawBufferPointer(rebasing: area[0..<length])
                let layout = FrameLayout(frame: UnsafeRawBufferPointer(frame))
                if let layout, let plan = TCPSegmentation(frame: UnsafeRawBufferPointer(frame), layout: layout, header: UnsafeRawBufferPointer(lanHeader)) {
                    // Its segments refill the slots from this one on.
                    lanFrame.copyMemory(from: UnsafeRawBufferPointer(frame))
                    prepared = forwardSegments(of: UnsafeRawBufferPointer(rebasing: lanFrame[0..<length]), plan, from: prepared, now: now)
                    frames += plan.segments - 1
                } else if TCPSegmentation.completeChecksum(frame, header: UnsafeRawBufferPointer(lanHeader)) {
                    prepared += prepare(frame: frame, layout: layout, slot: prepared, now: now)
                } else {
                    counters.drop(.malformed)
                }
            }
            if prepared > 0 { flush(prepared, now: now) }
            if drained { return }
        }
    }

    /// Where a frame goes in send slot `slot`: after the room for the data header, before the
    /// room for the tag.
    @inline(__always)
    private func frameArea(slot: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = sendBatch.buffer(slot)
        return UnsafeMutableRawBufferPointer(rebasing: buffer[WireFormat.dataHeaderLength..<(buffer.count - WireFormat.tagLength)])
    }

    /// Sends the batch when it lacks room for the most fragments one frame can need; returns
    /// the slot to fill next.
    @inline(__always)
    private func makeRoom(_ prepared: Int, now: Moment) -> Int {
        guard prepared + Reassembler.maximumPieces > Self.batchSize else { return prepared }
        flush(prepared, now: now)
        return 0
    }

    /// Cuts a large TCP frame into its segments, each prepared like a frame read alone, into
    /// slots from `slot` on (sending full batches on the way); returns the slot to fill next.
    private func forwardSegments(of frame: UnsafeRawBufferPointer, _ plan: TCPSegmentation, from slot: Int, now: Moment) -> Int {
        counters.framesSegmented &+= 1
        var prepared = slot
        for index in 0..<plan.segments {
            prepared = makeRoom(prepared, now: now)
            let area = frameArea(slot: prepared)
            guard let length = plan.writeSegment(index, of: frame, into: area) else {
                counters.drop(.oversized)
                continue
            }
            let segment = UnsafeMutableRawBufferPointer(rebasing: area[0..<length])
            prepared += prepare(frame: segment, layout: FrameLayout(frame: UnsafeRawBufferPointer(segment)), slot: prepared, now: now)
        }
        return prepared
    }

    /// Decides for one frame read from the TAP into send slot `slot` and seals what crosses
    /// into slots from `slot` on. Returns how many slots now hold datagrams to send.
    @inline(__always)
    private func prepare(frame: UnsafeMutableRawBufferPointer, layout: FrameLayout?, slot: Int, now: Moment) -> Int {
        counters.framesFromLAN &+= 1
        counters.bytesFromLAN &+= UInt64(frame.count)
        guard let layout else {
            counters.drop(.malformed)
            return 0
        }
        let header = EthernetHeader(frame: UnsafeRawBufferPointer(frame), layout: layout)
        switch forwarder.frameFromLAN(header, now: now, counters: &counters) {
        case .suppress:
            counters.suppressedLocal &+= 1
            return 0
        case .flood:
            counters.flooded &+= 1
        case .sendToPeer:
            break
        }
        guard let session = link.sendingSession(now: now) else {
            counters.drop(.noSession)
            link.frameWaiting(now: now)
            return 0
        }
        let largestFrame = pathMTU.largestWholeFrame
        if MSSClamp.clamp(frame, layout: layout, largestFrame: largestFrame) {
            counters.mssClamped &+= 1
        }
        guard frame.count > largestFrame else {
            return seal(.data, UnsafeRawBufferPointer(frame), session: session, slot: slot)
        }
        if configuration.icmpTooBig, answerTooBig(UnsafeRawBufferPointer(frame), layout: layout, largestFrame: largestFrame) {
            return 0
        }
        return fragment(UnsafeRawBufferPointer(frame), session: session, firstSlot: slot)
    }

    /// Seals `payload` as one message into send slot `slot`; returns 1, or 0 when it cannot.
    @inline(__always)
    private func seal(_ type: WireFormat.MessageType, _ payload: UnsafeRawBufferPointer, session: Session, slot: Int) -> Int {
        guard let length = session.seal(type, networkID: configuration.networkID, payload: payload, into: sendBatch.buffer(slot)) else {
            counters.drop(.oversized)
            return 0
        }
        sendBatch.prepare(slot, length: length, to: peerAddress)
        counters.bytesToPeer &+= UInt64(length)
        return 1
    }

    /// Cuts a frame too large for one datagram into fragments, sealed into consecutive send
    /// slots from `firstSlot` (where the frame itself was read, hence the copy first).
    private func fragment(_ frame: UnsafeRawBufferPointer, session: Session, firstSlot: Int) -> Int {
        guard frame.count <= WireFormat.maximumFrameLength else {
            counters.drop(.oversized)
            return 0
        }
        oversizedFrame.copyMemory(from: frame)
        let (count, pieceLength) = Fragmentation.split(frameLength: frame.count, largestDatagram: pathMTU.largestDatagram)
        nextFrameID &+= 1
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
            filled += seal(.fragment, plaintext, session: session, slot: firstSlot + filled)
        }
        counters.framesFragmented &+= 1
        counters.fragmentsSent &+= UInt64(filled)
        return filled
    }

    /// Answers the sending host as a router would; returns false when the frame gets no
    /// answer (not IP, IPv4 without DF, an ICMP error) and must be split instead.
    private func answerTooBig(_ frame: UnsafeRawBufferPointer, layout: FrameLayout, largestFrame: Int) -> Bool {
        guard let length = TooBigReply.build(for: frame, layout: layout, largestFrame: largestFrame, into: oversizedFrame) else { return false }
        if tap.write(UnsafeRawBufferPointer(rebasing: oversizedFrame[0..<length])) {
            counters.tooBigSent &+= 1
        } else {
            counters.drop(.sendFailed)
        }
        return true
    }

    /// Hands the first `count` prepared datagrams to the kernel.
    private func flush(_ count: Int, now: Moment) {
        let result = socket.send(sendBatch, count: count)
        counters.framesToPeer &+= UInt64(result.sent)
        counters.drop(.sendFailed, count: result.failed)
        if let length = result.tooLargeLength {
            // The device now takes less than the path MTU in use: search again, at once.
            pathMTU.sendFailed(size: length + pathMTU.headerOverhead, now: now)
        }
    }
}
