import Glibc

/// What the process may do, as the kernel says in /proc/self/status.
public enum Capabilities {
    /// CAP_NET_ADMIN's bit (linux/capability.h): creating the TAP, joining the bridge.
    static let netAdmin = 12

    /// Whether the process holds CAP_NET_ADMIN now (root has it unless it was dropped).
    public static func haveNetAdmin() -> Bool {
        guard let status = readText("/proc/self/status") else { return true }
        return effectiveSet(inStatus: status).map { $0 & (1 << netAdmin) != 0 } ?? true
    }

    private static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `CapEff:` mask of a /proc/PID/status text; nil when it has none.
    static func effectiveSet(inStatus status: String) -> UInt64? {
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: " \t"), radix: 16)
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return text
    }
}
