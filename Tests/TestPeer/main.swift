import ArgumentParser
import CausewayCore
import CausewayLinux
import Glibc

/// Plays the peer gateway from a test's namespace and sends what a hostile or broken peer
/// would: every datagram is built with the real codec, so the daemon under test sees exactly
/// what it would see on a real WAN.
@main
struct TestPeer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causeway-testpeer",
        abstract: "Sends hostile, malformed and replayed datagrams to a causewayd (for tests)."
    )

    @Option(help: "Address:port to send from (the peer address the daemon expects).")
    var listen: String

    @Option(help: "The daemon's address:port.")
    var target: String

    @Option(help: "The key file the daemon uses.")
    var key: String

    @Option(help: "The daemon's network id.")
    var networkID: UInt32 = 1

    @Option(help: "Marker text put into the one valid frame, which the test expects on the LAN.")
    var marker: String = "causeway-valid"

    @Flag(help: "Send hostile fragments (overlapping, oversized, endless incomplete series) instead.")
    var fragments = false

    func run() throws {
        guard let local = SocketEndpoint(listen), let remote = SocketEndpoint(target) else {
            throw ValidationError("--listen and --target take ADDRESS:PORT")
        }
        let keyText = try String(decoding: readFile(key), as: UTF8.self)
        let psk = try PreSharedKey(base64: keyText)
        let socket = try UDPSocket(binding: local)
        let daemon = SocketAddress(remote, family: socket.family)
        var sent: [String: Int] = [:]
        func send(_ bytes: [UInt8], as kind: String) {
            bytes.withUnsafeBytes { _ = socket.send($0, to: daemon) }
            sent[kind, default: 0] += 1
        }
        if fragments {
            let session = try handshake(psk: psk, socket: socket, daemon: daemon)
            sendHostileFragments(session: session, send: send)
            print(Self.json(sent))
            return
        }

        // 1. Random bytes: no valid header.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var bytes = (0..<Int.random(in: 1...1400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes[0] = UInt8.random(in: 2...255, using: &generator)  // never version 1
            send(bytes, as: "malformed")
        }
        // 2. Truncated headers: a common header cut short, a data header cut short.
        send([WireFormat.version, WireFormat.MessageType.data.rawValue, 0], as: "malformed")
        send([WireFormat.version, WireFormat.MessageType.data.rawValue, 0, 0, 0, 0, 0, 1, 0, 0], as: "malformed")

        // 3. A handshake sealed with the wrong key.
        let (_, forged) = Handshake.initiate(psk: PreSharedKey.random(), localIndex: 7, timestamp: Clock.wall(), now: Clock.monotonic())
        send(forged, as: "authentication")

        // 4. A real handshake, then one valid frame and hostile copies of it.
        let session = try handshake(psk: psk, socket: socket, daemon: daemon)
        let frame = Self.broadcastFrame(marker: marker)
        let valid = seal(frame, session: session, networkID: networkID)
        send(valid, as: "valid")
        send(valid, as: "replay")
        var tampered = seal(frame, session: session, networkID: networkID)
        tampered[tampered.count - 1] ^= 0x01
        send(tampered, as: "authentication")
        send(seal(frame, session: session, networkID: (networkID + 1) & NetworkID.maximum), as: "unknown-network")
        var unknownSession = seal(frame, session: session, networkID: networkID)
        unknownSession.withUnsafeMutableBytes { $0.storeBytes(of: (session.remoteIndex &+ 1).bigEndian, toByteOffset: 4, as: UInt32.self) }
        send(unknownSession, as: "unknown-session")

        print(Self.json(sent))
    }

    static func json(_ counts: [String: Int]) -> String {
        "{" + counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    /// One frame split correctly (it must arrive), then what a broken or hostile peer holding
    /// the key could send: overlapping pieces, pieces outside their frame, and an endless
    /// series of frames that never complete.
    private func sendHostileFragments(session: Session, send: ([UInt8], String) -> Void) {
        let frame = Self.broadcastFrame(marker: marker) + Array(repeating: 0xAB, count: 1400)
        func piece(_ id: UInt32, _ offset: Int, _ length: Int, frameLength: Int? = nil) -> [UInt8] {
            var plaintext = [UInt8](repeating: 0, count: WireFormat.fragmentHeaderLength)
            plaintext.withUnsafeMutableBytes {
                FragmentHeader(frameID: id, frameLength: UInt16(frameLength ?? frame.count), offset: UInt16(offset)).write(into: $0)
            }
            let end = min(offset + length, frame.count)
            plaintext += offset < end ? frame[offset..<end] : frame[0..<length]
            return seal(plaintext, session: session, networkID: networkID, type: .fragment)
        }
        send(piece(1, 0, 800), "valid")
        send(piece(1, 800, frame.count - 800), "valid")
        send(piece(2, 0, 800), "overlap-first")
        send(piece(2, 700, frame.count - 700), "fragment-overlap")
        send(piece(3, 1000, 600, frameLength: 1200), "fragment-oversized")
        send(piece(4, 0, 100, frameLength: 9019), "fragment-oversized")
        for id in 1000..<1300 as Range<UInt32> {
            send(piece(id, 0, 700), "incomplete")
        }
    }

    /// Initiates a handshake and waits for the daemon's response.
    private func handshake(psk: PreSharedKey, socket: UDPSocket, daemon: SocketAddress) throws -> Session {
        let batch = DatagramBatch(capacity: 8, slotSize: 2048)
        for _ in 0..<5 {
            let (initiator, message) = Handshake.initiate(psk: psk, localIndex: UInt32.random(in: 1...UInt32.max), timestamp: Clock.wall(), now: Clock.monotonic())
            message.withUnsafeBytes { _ = socket.send($0, to: daemon) }
            let deadline = Clock.monotonic() + .seconds(2)
            while Clock.monotonic() < deadline {
                var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, 100)
                let count = try socket.receive(into: batch)
                var response: [UInt8]?
                for index in 0..<count {
                    batch.forEachDatagram(in: index) { datagram in
                        if WireFormat.messageType(of: datagram) == .handshakeResponse,
                           Handshake.receiverIndex(ofResponse: datagram) == initiator.localIndex {
                            response = Array(datagram)
                        }
                    }
                }
                if let response {
                    let keys = try Handshake.complete(initiator, response: response)
                    return Session(keys: keys, createdAt: Clock.monotonic())
                }
            }
        }
        throw ValidationError("the daemon did not answer the handshake")
    }

    private func seal(_ frame: [UInt8], session: Session, networkID: UInt32, type: WireFormat.MessageType = .data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frame.count + WireFormat.dataOverhead)
        let length = frame.withUnsafeBytes { payload in
            out.withUnsafeMutableBytes { session.seal(type, networkID: NetworkID(networkID), payload: payload, into: $0) }
        }
        return Array(out[0..<length!])
    }

    /// A broadcast frame of the local-experimental EtherType 0x88B5 carrying `marker`.
    static func broadcastFrame(marker: String) -> [UInt8] {
        MACAddress.broadcast.bytes + [0x02, 0, 0, 0, 0, 0x99] + [0x88, 0xB5] + Array(marker.utf8) + Array(repeating: 0, count: 32)
    }

    private func readFile(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "r") else { throw ValidationError("cannot read \(path)") }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = fread(&bytes, 1, bytes.count, file)
        return Array(bytes[0..<count])
    }
}
