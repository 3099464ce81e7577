import CausewayCore
import CausewayFuzzSupport

/// One link for all inputs: a handshake per input would cost more than the input.
nonisolated(unsafe) var link = FuzzLink()

/// libFuzzer's entry: a sequence of frames on site A's LAN, each a record of a virtio-net
/// header (10 bytes: GSO type, segment size, checksum request, all fuzzed) and a two-byte
/// length and the frame. A forwards them (FrameLayout, switching, segmentation, MSS clamp,
/// too-big replies, fragmentation, sealing); what crosses is received at B (reassembly,
/// switching, MSS clamp, coalescing). Frames to B's LAN are counted and forgotten.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if link.isWornOut { link = FuzzLink() }
    var input = FuzzInput(data, size)
    while !input.isEmpty {
        let header = input.take(VirtioNetHeader.length)
        let frame = input.record()
        link.lanA.inject(frame, header: header)
    }
    link.advance(by: .milliseconds(1))
    link.a.forwardFromLAN(now: link.now)
    link.b.receiveFromPeer(now: link.now)
    link.reset()
    return 0
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_frame_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): says how to run it.
@main enum FrameFuzzEntry {
    static func main() { print("a libFuzzer target: run it with `make fuzz`") }
}
#endif
