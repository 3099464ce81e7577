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

    @Option(help: "The private key file of the site this peer plays.")
    var key: String

    @Option(help: "The daemon's public key (base64).")
    var peerPublicKey: String

    @Option(help: "A pre-shared key file, when the daemon uses one.")
    var psk: String?

    @Option(help: "The daemon's network id.")
    var networkID: UInt32 = 1

    @Option(help: "Marker text put into the one valid frame, which the test expects on the LAN.")
    var marker: String = "causeway-valid"

    @Flag(help: "Send hostile fragments (overlapping, oversized, endless incomplete series) instead.")
    var fragments = false

    @Option(help: "Flood the daemon with handshake-shaped datagrams for this many seconds instead.")
    var flood: Double?

    @Option(help: "Flood: what to send, comma-separated: junk (random bytes of an initiation's shape), mac1 (initiations with a valid mac1 and a garbage body, as one who knows the daemon's public key would send), replay (the initiation in --replay, again and again), responses (forged responses with a valid mac1).")
    var kinds: String = "junk"

    @Option(help: "Flood: datagrams per second, in all.")
    var rate: Int = 2000

    @Option(help: "Flood: extra local addresses to send from as well (comma-separated), each from port 40100 and up.")
    var sources: String?

    @Option(help: "Flood: a file holding a captured initiation in hex.")
    var replay: String?

    @Option(help: "Reflect: for this many seconds, send every datagram received on --listen back to where it came from.")
    var reflect: Double?

    func run() throws {
        guard let local = SocketEndpoint(listen), let remote = SocketEndpoint(target) else {
            throw ValidationError("--listen and --target take ADDRESS:PORT")
        }
        let socket = try UDPSocket(binding: local, sendSlotSize: Self.slotSize)
        let daemon = EndpointAddress(remote)
        if let reflect {
            try reflectDatagrams(socket: socket, seconds: reflect)
            return
        }
        let privateKey = try PrivateKey(base64: String(decoding: readFile(key), as: UTF8.self))
        let daemonKey = try PublicKey(base64: peerPublicKey)
        let sharedKey = try psk.map { try PreSharedKey(base64: String(decoding: readFile($0), as: UTF8.self)) } ?? .none
        let identity = try SiteIdentity(local: privateKey, peer: daemonKey, psk: sharedKey)
        var sent: [String: Int] = [:]
        func send(_ bytes: [UInt8], as kind: String) {
            bytes.withUnsafeBytes { _ = socket.send($0, to: daemon) }
            sent[kind, default: 0] += 1
        }
        if let flood {
            try floodDaemon(seconds: flood, socket: socket, daemon: daemon, identity: identity) { sent[$0, default: 0] += 1 }
            print(Self.json(sent))
            return
        }
        if fragments {
            let session = try handshake(identity, socket: socket, daemon: daemon)
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

        // 3. Handshakes that must not cost a Diffie-Hellman, and one from a stranger.
        send(Self.junkInitiation(), as: "bad-mac1")
        let stranger = try SiteIdentity(local: .random(), peer: daemonKey)
        send(Self.initiation(stranger), as: "unknown-peer")

        // 4. A real handshake, then one valid frame and hostile copies of it.
        let session = try handshake(identity, socket: socket, daemon: daemon)
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

    /// Runs the real link state machine until the daemon answers: cookie replies included.
    private func handshake(_ identity: SiteIdentity, socket: UDPSocket, daemon: EndpointAddress) throws -> Session {
        var link = PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: .seconds(5)))
        var counters = Counters()
        let deadline = Clock.monotonic() + .seconds(10)
        while Clock.monotonic() < deadline {
            let due = link.timersDue(now: Clock.monotonic(), wallClock: Clock.wall(), counters: &counters)
            due.initiation?.withUnsafeBytes { _ = socket.send($0, to: daemon) }
            Self.waitReadable(socket)
            _ = socket.receive { datagram, source in
                var reply: [UInt8]?
                switch WireFormat.messageType(of: datagram) {
                case .handshakeResponse:
                    _ = link.receiveResponse(datagram, from: source, now: Clock.monotonic(), counters: &counters, reply: &reply)
                case .cookieReply:
                    _ = link.receiveCookieReply(datagram, now: Clock.monotonic(), counters: &counters)
                default:
                    break
                }
            }
            if let session = link.current { return session }
        }
        throw ValidationError("the daemon did not answer the handshake")
    }

    /// An initiation of the right shape whose every byte after the header is random.
    static func junkInitiation() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return [UInt8]([WireFormat.version, WireFormat.MessageType.handshakeInitiation.rawValue, 0, 0])
            + (4..<WireFormat.Initiation.length).map { _ in generator.next() }
    }

    /// A genuine initiation from `identity`, mac1 and all.
    static func initiation(_ identity: SiteIdentity) -> [UInt8] {
        var link = PeerLink(identity: identity, timing: LinkTiming(keepaliveInterval: .seconds(5)))
        var counters = Counters()
        return link.timersDue(now: Clock.monotonic(), wallClock: Clock.wall(), counters: &counters).initiation!
    }

    /// `message` with a random body and a valid mac1 under the daemon's public key: what an
    /// attacker who knows that key can make, which must still cost no Diffie-Hellman under load.
    static func withValidMAC1(_ type: WireFormat.MessageType, daemonKey: PublicKey) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let (length, macOffset) = type == .handshakeInitiation
            ? (WireFormat.Initiation.length, WireFormat.Initiation.mac1)
            : (WireFormat.Response.length, WireFormat.Response.mac1)
        var message: [UInt8] = [WireFormat.version, type.rawValue, 0, 0] + (4..<length).map { _ in generator.next() }
        message.replaceSubrange((macOffset + 16)..<(macOffset + 32), with: [UInt8](repeating: 0, count: 16))
        Handshake.writeMAC1(into: &message, macAt: macOffset, receiver: daemonKey)
        return message
    }

    /// Datagrams this peer sends are handshake-sized or small transport messages.
    static let slotSize = 2048

    /// Waits up to 100 ms for a datagram.
    private static func waitReadable(_ socket: UDPSocket) {
        var poller = PollSet()
        poller.watch(socket.descriptor)
        poller.wait(timeout: .milliseconds(100))
    }

    private func floodDaemon(
        seconds: Double, socket: UDPSocket, daemon: EndpointAddress, identity: SiteIdentity, count: (String) -> Void
    ) throws {
        var senders = [socket]
        for (index, address) in (sources ?? "").split(separator: ",").enumerated() {
            let port = 40100 + index
            guard let endpoint = SocketEndpoint("\(address):\(port)") ?? SocketEndpoint("[\(address)]:\(port)") else {
                throw ValidationError("--sources: '\(address)' is not an address")
            }
            senders.append(try UDPSocket(binding: endpoint, sendSlotSize: Self.slotSize))
        }
        let captured = try replay.map { path in
            let text = String(decoding: try readFile(path, limit: 4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return stride(from: 0, to: text.count - 1, by: 2).map { offset -> UInt8 in
                let start = text.index(text.startIndex, offsetBy: offset)
                return UInt8(text[start...text.index(after: start)], radix: 16) ?? 0
            }
        }
        let kinds = self.kinds.split(separator: ",").map(String.init)
        // Made before the clock starts, so that the flood costs this process little: what the
        // daemon pays per datagram does not depend on how new its random bytes are.
        var pools: [String: [[UInt8]]] = [:]
        for kind in kinds {
            switch kind {
            case "junk": pools[kind] = (0..<64).map { _ in Self.junkInitiation() }
            case "mac1": pools[kind] = (0..<64).map { _ in Self.withValidMAC1(.handshakeInitiation, daemonKey: identity.peer) }
            case "responses": pools[kind] = (0..<64).map { _ in Self.withValidMAC1(.handshakeResponse, daemonKey: identity.peer) }
            case "replay":
                guard let captured else { throw ValidationError("--kinds replay needs --replay FILE") }
                pools[kind] = [captured]
            default: throw ValidationError("--kinds: unknown kind '\(kind)'")
            }
        }
        let end = Clock.monotonic() + .milliseconds(Int64(seconds * 1000))
        let perTick = max(1, rate / 100)
        var turn = 0
        while Clock.monotonic() < end {
            let tickEnd = Clock.monotonic() + .milliseconds(10)
            for _ in 0..<perTick {
                turn += 1
                let kind = kinds[turn % kinds.count]
                let pool = pools[kind]!
                let message = pool[(turn / kinds.count) % pool.count]
                let sender = senders[turn % senders.count]
                message.withUnsafeBytes { _ = sender.send($0, to: daemon) }
                count(kind)
            }
            while Clock.monotonic() < tickEnd { Clock.sleep(for: .milliseconds(1)) }
        }
    }

    private func reflectDatagrams(socket: UDPSocket, seconds: Double) throws {
        let end = Clock.monotonic() + .milliseconds(Int64(seconds * 1000))
        var reflected = 0
        while Clock.monotonic() < end {
            Self.waitReadable(socket)
            _ = socket.receive { datagram, source in
                _ = socket.send(datagram, to: source)
                reflected += 1
            }
        }
        print(Self.json(["reflected": reflected]))
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

    private func readFile(_ path: String, limit: Int = 256) throws -> [UInt8] {
        guard let file = fopen(path, "r") else { throw ValidationError("cannot read \(path)") }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = fread(&bytes, 1, bytes.count, file)
        return Array(bytes[0..<count])
    }
}
