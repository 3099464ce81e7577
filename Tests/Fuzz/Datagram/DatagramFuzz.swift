import CausewayCore
import CausewayFuzzSupport

/// One link for all inputs: a handshake per input would cost more than the input.
nonisolated(unsafe) var link = FuzzLink()

/// libFuzzer's entry: a sequence of datagrams arriving at site B from A's address, each a
/// record of a kind byte, a two-byte length and its bytes. The kind's low two bits say what
/// the bytes are: 0 the datagram itself (the wire decoder, handshakes, a session's open); 1, 2
/// and 3 a payload that A's session seals as a data, fragment or control message, so that
/// fuzzed frames, fragment sequences and control messages get past authentication to the
/// frame parsers, the reassembler and the control handler; bits 4 and 5 name the lane A
/// seals it in (B keeps a replay window per sending lane). The rest of the kind byte moves
/// the clock (milliseconds) before B receives.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if link.isWornOut { link = FuzzLink() }
    var input = FuzzInput(data, size)
    let sealed = UnsafeMutableRawBufferPointer.allocate(byteCount: WireFormat.maximumDatagramLength + 64, alignment: 16)
    defer { sealed.deallocate() }
    while !input.isEmpty {
        let kind = input.byte()
        let bytes = input.record()
        let type: WireFormat.MessageType? = switch kind & 3 {
        case 1: .data
        case 2: .fragment
        case 3: .control
        default: nil
        }
        if let type {
            let length = link.sendingSession.seal(type, networkID: FuzzLink.configurationA.networkID,
                                                  payload: bytes, into: sealed, lane: Int(kind >> 4) & 3)
            if let length { link.wanB.enqueue(UnsafeRawBufferPointer(rebasing: sealed[0..<length]), from: FuzzLink.addressA) }
        } else {
            link.wanB.enqueue(bytes, from: FuzzLink.addressA)
        }
        link.advance(by: .milliseconds(Int(kind >> 2)))
        link.b.receiveFromPeer(now: link.now)
    }
    // Timers too: reassembly timeouts, MAC aging, keepalives.
    link.b.serviceTimers(now: link.now, wallClock: .zero)
    link.reset()
    return 0
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_datagram_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): says how to run it.
@main enum DatagramFuzzEntry {
    static func main() { print("a libFuzzer target: run it with `make fuzz`") }
}
#endif
