/// An IP address and UDP port, parsed from `198.18.0.1:51820` or `[fd00::1]:51820`.
public struct SocketEndpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Address: Hashable, Sendable {
        case v4([UInt8])
        case v6([UInt8])
    }

    public let address: Address
    public let port: UInt16

    public init(address: Address, port: UInt16) {
        self.address = address
        self.port = port
    }

    public init?(_ text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  text[text.index(after: close)...].hasPrefix(":")
            else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard let bytes = Self.parseIPv6(host) else { return nil }
            address = .v6(bytes)
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard let bytes = Self.parseIPv4(host) else { return nil }
            address = .v4(bytes)
        }
        guard portText.allSatisfy(\.isASCII), let port = UInt16(portText), port != 0 else { return nil }
        self.port = port
    }

    public var isIPv6: Bool {
        if case .v6 = address { return true }
        return false
    }

    public var isUnspecified: Bool {
        switch address {
        case .v4(let bytes), .v6(let bytes): bytes.allSatisfy { $0 == 0 }
        }
    }

    public var addressDescription: String {
        switch address {
        case .v4(let bytes):
            return bytes.map(String.init).joined(separator: ".")
        case .v6(let bytes):
            let groups = bytes.withUnsafeBytes { raw in stride(from: 0, to: 16, by: 2).map { raw.loadBigEndian(at: $0, as: UInt16.self) } }
            return groups.map { String($0, radix: 16) }.joined(separator: ":")
        }
    }

    public var description: String {
        isIPv6 ? "[\(addressDescription)]:\(port)" : "\(addressDescription):\(port)"
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII),
                  let value = UInt8(part), !(part.count > 1 && part.first == "0")
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// RFC 4291 text: eight groups, one `::` for a run of zeros, an IPv4 tail allowed.
    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (position, piece) in pieces.enumerated() {
                if allowIPv4Tail, position == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    result += v4.withUnsafeBytes { [$0.loadBigEndian(at: 0, as: UInt16.self), $0.loadBigEndian(at: 2, as: UInt16.self)] }
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                          let value = UInt16(piece, radix: 16)
                    else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        let all: [UInt16]
        if halves.count == 2 {
            guard let head = groups(halves[0], allowIPv4Tail: false),
                  let tail = groups(halves[1], allowIPv4Tail: true),
                  head.count + tail.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let only = groups(halves[0], allowIPv4Tail: true), only.count == 8 else { return nil }
            all = only
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
