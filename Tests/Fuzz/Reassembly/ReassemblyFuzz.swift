import CausewayCore
import CausewayFuzzSupport

let reassembler = Reassembler()
nonisolated(unsafe) var now = Moment(nanoseconds: 1_000_000_000)

/// libFuzzer's entry: a sequence of fragments straight into the reassembler, each a record
/// of a fragment header (frame ID, frame length, offset: 8 bytes as on the wire) and a
/// two-byte length and the piece. A frame that completes must be as long as its header said.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var counters = Counters()
    while !input.isEmpty {
        var headerBytes = Array(input.take(WireFormat.fragmentHeaderLength))
        headerBytes += repeatElement(0, count: WireFormat.fragmentHeaderLength - headerBytes.count)
        let header = headerBytes.withUnsafeBytes { FragmentHeader($0)! }
        let piece = input.record()
        let outcome = reassembler.add(header, piece: piece, now: now, counters: &counters)
        if case .complete(let frame) = outcome {
            precondition(frame.count == Int(header.frameLength), "a frame completed at a length its fragments did not say")
        }
    }
    // Past the timeout: every frame left is abandoned, so the next input starts empty.
    now = now + Reassembler.timeout + .milliseconds(1)
    reassembler.expire(now: now, counters: &counters)
    precondition(reassembler.framesInProgress == 0, "a frame outlived its timeout")
    return 0
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_reassembly_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): says how to run it.
@main enum ReassemblyFuzzEntry {
    static func main() { print("a libFuzzer target: run it with `make fuzz`") }
}
#endif
