import Glibc

/// A `sockaddr_un` for a filesystem path or, written with a leading '@', a name in the
/// abstract namespace (as systemd hands out NOTIFY_SOCKET).
struct UnixSocketAddress {
    private var storage = sockaddr_un()
    private let length: socklen_t

    /// Nil when the name does not fit `sun_path` (with its terminating NUL, for a path).
    init?(path: String) {
        var bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        let isAbstract = bytes.first == UInt8(ascii: "@")
        if isAbstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // An abstract name is exactly its bytes long; a path is NUL-terminated.
        length = socklen_t(pathOffset + bytes.count + (isAbstract ? 0 : 1))
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
