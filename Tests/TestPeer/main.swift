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

        let report = sent.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        print("{\(report)}")
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
                for index in 0..<count {
                    let datagram = batch.datagram(index)
                    guard WireFormat.messageType(of: datagram) == .handshakeResponse,
                          Handshake.receiverIndex(ofResponse: datagram) == initiator.localIndex
                    else { continue }
                    let keys = try Handshake.complete(initiator, response: Array(datagram))
                    return Session(keys: keys, createdAt: Clock.monotonic())
                }
            }
        }
        throw ValidationError("the daemon did not answer the handshake")
    }

    private func seal(_ frame: [UInt8], session: Session, networkID: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frame.count + WireFormat.dataOverhead)
        let length = frame.withUnsafeBytes { payload in
            out.withUnsafeMutableBytes { session.seal(.data, networkID: NetworkID(networkID), payload: payload, into: $0) }
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
