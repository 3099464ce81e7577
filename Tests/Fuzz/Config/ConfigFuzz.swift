import CausewayCore
import CausewayFuzzSupport

/// libFuzzer's entry: a configuration file's text. Any input may be refused with a
/// `ConfigurationError`; none may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Configuration(toml: text, file: "/fuzz/site.toml")
    return 0
}

#if FUZZING
/// The executable's entry under `make fuzz`: libFuzzer's driver on `fuzz`.
@_cdecl("fuzz_config_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
#else
/// Built without `make fuzz` (no libFuzzer to provide `main`): says how to run it.
@main enum ConfigFuzzEntry {
    static func main() { print("a libFuzzer target: run it with `make fuzz`") }
}
#endif
