import CausewayCore
import CausewayFuzzSupport
import Crypto
#if !FUZZING
import Foundation
#endif

/// The two sites whose handshake messages are fuzzed: A initiates, B responds. Their keys
/// are fixed, so a committed seed (a real initiation from A to B) opens, and the fuzzer
/// starts from a message that gets through every check.
let keyA = try! PrivateKey(base64: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
let keyB = try! PrivateKey(base64: "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=")
let siteA = try! SiteIdentity(local: keyA, peer: keyB.publicKey)
let siteB = try! SiteIdentity(local: keyB, peer: keyA.publicKey)
let timing = LinkTiming(keepaliveInterval: .seconds(10))
let source = EndpointAddress(SocketEndpoint("198.18.0.1:51820")!)
let now = Moment(nanoseconds: 5_000_000_000)

/// libFuzzer's entry: one handshake message, the first byte saying which (0 initiation to B,
/// 1 response to A's initiation, 2 cookie reply to it), the rest its bytes. Random bytes
/// would all stop at mac1, so the harness does what any sender who knows the receiver's
/// public key can: writes the header, the receiver index a response or cookie reply must
/// name (A's, from its initiation), and a valid mac1. Everything after that (the guard,
/// Noise's Diffie-Hellmans and AEADs, timestamps, cookies) sees the fuzzed bytes. Each input
/// meets fresh PeerLinks, so inputs do not depend on each other.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    var counters = Counters()
    switch selector % 3 {
    case 0:
        var responder = PeerLink(identity: siteB, timing: timing)
        var message = messageBytes(input.dropFirst(), type: .handshakeInitiation)
        signMAC1(&message, at: WireFormat.Initiation.mac1, to: keyB.publicKey)
        _ = message.withUnsafeBytes { responder.receiveInitiation($0, from: source, now: now, counters: &counters) }
    case 1:
        var (initiator, index) = initiatingLink()
        var message = messageBytes(input.dropFirst(), type: .handshakeResponse)
        store(index, into: &message, at: WireFormat.Response.receiverIndex)
        signMAC1(&message, at: WireFormat.Response.mac1, to: keyA.publicKey)
        var reply: [UInt8]?
        _ = message.withUnsafeBytes { initiator.receiveResponse($0, from: source, now: now, counters: &counters, reply: &reply) }
    default:
        var (initiator, index) = initiatingLink()
        var message = messageBytes(input.dropFirst(), type: .cookieReply)
        store(index, into: &message, at: WireFormat.CookieReply.receiverIndex)
        _ = message.withUnsafeBytes { initiator.receiveCookieReply($0, now: now, counters: &counters) }
    }
    return 0
}

/// `body` cut or zero-padded to the length of a message of `type`, under its header.
func messageBytes(_ body: Slice<UnsafeBufferPointer<UInt8>>, type: WireFormat.MessageType) -> [UInt8] {
    let length = switch type {
    case .handshakeInitiation: WireFormat.initiationLength
    case .handshakeResponse: WireFormat.responseLength
    default: WireFormat.CookieReply.length
    }
    var message = Array(body.prefix(length))
    message += repeatElement(0, count: length - message.count)
    message[0] = WireFormat.version
    message[1] = type.rawValue
    message[2] = 0
    message[3] = 0
    precondition(message.withUnsafeBytes { WireFormat.messageType(of: $0) } == type)
    return message
}

/// A link at A with an initiation in flight, and the index a reply to it must name, as it
/// is on the wire.
func initiatingLink() -> (PeerLink, ArraySlice<UInt8>) {
    var initiator = PeerLink(identity: siteA, timing: timing)
    var counters = Counters()
    let initiation = initiator.timersDue(now: now, wallClock: HandshakeTimestamp(seconds: 1_700_000_000, nanoseconds: 0), counters: &counters).initiation!
    return (initiator, initiation[WireFormat.Initiation.senderIndex..<(WireFormat.Initiation.senderIndex + 4)])
}

func store(_ index: ArraySlice<UInt8>, into message: inout [UInt8], at offset: Int) {
    message.replaceSubrange(offset..<(offset + 4), with: index)
}

/// WireGuard's mac1, as Causeway keys it: HMAC-SHA256 under SHA-256("mac1----" ‖ the
/// receiver's public key), its first 16 bytes, over the message before it.
func signMAC1(_ message: inout [UInt8], at offset: Int, to receiver: PublicKey) {
    let key = SymmetricKey(data: SHA256.hash(data: Array("mac1----".utf8) + receiver.bytes))
    let mac = HMAC<SHA256>.authenticationCode(for: message[0..<offset], using: key)
    message.replaceSubrange(offset..<(offset + WireFormat.macLength), with: Array(mac).prefix(WireFormat.macLength))
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_handshake_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): writes this target's seeds
/// into the directory named by its argument (Tests/Fuzz/make-seeds.sh), or says how to run it.
@main enum HandshakeFuzzEntry {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            print("a libFuzzer target: run it with `make fuzz`; with a directory, writes its seeds there")
            return
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[1])
        let (_, initiation) = Handshake.initiate(siteA, localIndex: 0x0102_0304, timestamp: HandshakeTimestamp(seconds: 1_700_000_000, nanoseconds: 0), now: now)
        let opened = try initiation.withUnsafeBytes { try Handshake.open(initiation: $0, siteB) }
        let answer = try Handshake.respond(to: opened, siteB, localIndex: 0x0506_0708)
        let seeds: [(String, [UInt8])] = [
            ("initiation", [0] + initiation),
            ("response", [1] + answer.response),
            ("cookie-reply", [2] + [UInt8](repeating: 0, count: WireFormat.CookieReply.length)),
        ]
        for (name, bytes) in seeds {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
    }
}
#endif
