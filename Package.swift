// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Causeway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "causewayd", targets: ["causewayd"]),
        .executable(name: "causewayctl", targets: ["causewayctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // libnl-3 and libnl-route-3: every change to links goes through them.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev", "pkg-config"])]
        ),
        // The few kernel interfaces Swift cannot import: TUN ioctls, mmsghdr batches.
        .target(
            name: "CLinuxShim",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // Pure logic: no system calls, unit-tested without a kernel.
        .target(
            name: "CausewayCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The control protocol and its reports: pure, shared by causewayd and causewayctl.
        .target(
            name: "CausewayControl",
            dependencies: ["CausewayCore"]
        ),
        // Thin typed adapters over the kernel.
        .target(
            name: "CausewayLinux",
            dependencies: [
                "CNetlink",
                "CLinuxShim",
                "CausewayCore",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Wiring: the data-plane thread, lifecycle and configuration loading.
        .target(
            name: "CausewayDaemon",
            dependencies: [
                "CausewayCore",
                "CausewayControl",
                "CausewayLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "causewayd",
            dependencies: [
                "CausewayDaemon",
                "CausewayCore",
                "CausewayLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // main.swift holds @main, and other files sit beside it: without this flag a file
            // named main.swift is top-level code, which @main refuses.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "causewayctl",
            dependencies: [
                "CausewayControl",
                "CausewayCore",
                "CausewayLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // main.swift holds @main, and other files sit beside it: without this flag a file
            // named main.swift is top-level code, which @main refuses.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // Speaks the wire protocol from a test's own namespace: hostile and replayed datagrams.
        .executableTarget(
            name: "causeway-testpeer",
            dependencies: [
                "CausewayCore",
                "CausewayLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/TestPeer"
        ),
        // Counts the test thread's heap allocations (malloc interposed): "nothing per frame
        // allocates" is a test, not a claim.
        .target(
            name: "CAllocationCounter",
            path: "Tests/CAllocationCounter"
        ),
        .testTarget(
            name: "CausewayCoreTests",
            dependencies: ["CausewayCore", "CAllocationCounter"],
            // Known answers from an independent Noise implementation (Tests/noise/interop.py).
            resources: [.copy("Vectors")]
        ),
        // What of the kernel adapters needs only memory: batches, addresses, results, poll.
        .testTarget(
            name: "CausewayLinuxTests",
            dependencies: ["CausewayLinux", "CausewayCore"]
        ),
        .testTarget(
            name: "CausewayControlTests",
            dependencies: ["CausewayControl", "CausewayCore"]
        ),
        // libFuzzer targets (Tests/Fuzz), built for fuzzing only by `make fuzz` (with
        // -sanitize=fuzzer,address -D FUZZING); a plain build gives each a main that points
        // there. See docs/architecture.md, "Fuzzing".
        // In-memory ports, a link with a session up and libFuzzer's driver, for the targets.
        .target(
            name: "CausewayFuzzSupport",
            dependencies: ["CausewayCore"],
            path: "Tests/Fuzz/Support"
        ),
        .executableTarget(name: "fuzz-datagram", dependencies: ["CausewayCore", "CausewayFuzzSupport"], path: "Tests/Fuzz/Datagram"),
        .executableTarget(name: "fuzz-frame", dependencies: ["CausewayCore", "CausewayFuzzSupport"], path: "Tests/Fuzz/Frame"),
        .executableTarget(
            name: "fuzz-handshake",
            dependencies: ["CausewayCore", "CausewayFuzzSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/Fuzz/Handshake"
        ),
        .executableTarget(name: "fuzz-reassembly", dependencies: ["CausewayCore", "CausewayFuzzSupport"], path: "Tests/Fuzz/Reassembly"),
        .executableTarget(name: "fuzz-config", dependencies: ["CausewayCore", "CausewayFuzzSupport"], path: "Tests/Fuzz/Config"),
        .executableTarget(name: "fuzz-control", dependencies: ["CausewayControl", "CausewayFuzzSupport"], path: "Tests/Fuzz/Control"),
    ]
)
