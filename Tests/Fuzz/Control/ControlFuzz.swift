import CausewayControl
import CausewayFuzzSupport

/// libFuzzer's entry: one control request line, as a client could send it. Any input may be
/// refused with a `ControlError`; none may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = UnsafeBufferPointer(start: data, count: size)
    if let request = try? ControlRequest(line: line) {
        // What parsed must say itself again the same way.
        precondition((try? ControlRequest(line: request.line)) == request, "a request does not survive its own line")
    }
    return 0
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_control_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): says how to run it.
@main enum ControlFuzzEntry {
    static func main() { print("a libFuzzer target: run it with `make fuzz`") }
}
#endif
