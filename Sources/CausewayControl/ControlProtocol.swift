import CausewayCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Version 1 of the control protocol: one JSON object per line each way, over the daemon's
/// Unix socket. docs/control.md lists every request and reply.
public enum ControlProtocol {
    public static let version = 1
    /// A request line longer than this is refused and the connection closed.
    public static let maximumRequestLength = 4096
}

/// What a client may ask.
public enum ControlRequest: Equatable, Sendable {
    case status
    case macs
    case explain(MACAddress)
    /// Explain the MAC address the gateway's neighbour table (ARP, ND) gives this IP address.
    case explainIP(String)
    case metrics
    /// Re-read the configuration file and apply it, as SIGHUP does.
    case reload

    public static let names = ["status", "macs", "explain", "metrics", "reload"]

    /// The request as it goes on the wire, newline included.
    public var line: [UInt8] {
        var wire = WireRequest(version: ControlProtocol.version, request: name)
        if case .explain(let mac) = self { wire.mac = mac.description }
        if case .explainIP(let ip) = self { wire.ip = ip }
        return ControlJSON.line(wire)
    }

    public var name: String {
        switch self {
        case .status: "status"
        case .macs: "macs"
        case .explain, .explainIP: "explain"
        case .metrics: "metrics"
        case .reload: "reload"
        }
    }

    /// Whether answering needs the MAC table's rows: the data plane copies the table only then.
    public var needsMACTable: Bool {
        switch self {
        case .macs, .explain, .explainIP: true
        case .status, .metrics, .reload: false
        }
    }

    /// Parses one request line (without its newline).
    public init(line: some Collection<UInt8>) throws(ControlError) {
        let wire: WireRequest
        do {
            wire = try JSONDecoder().decode(WireRequest.self, from: Data(line))
        } catch {
            throw ControlError(.malformedRequest, "not a JSON object of the form {\"version\":1,\"request\":\"status\"}")
        }
        guard let version = wire.version else { throw ControlError(.malformedRequest, "missing \"version\"") }
        guard version == ControlProtocol.version else {
            throw ControlError(.unsupportedVersion, "version \(version) is not supported; this daemon speaks version \(ControlProtocol.version)")
        }
        guard let name = wire.request else { throw ControlError(.malformedRequest, "missing \"request\"") }
        switch name {
        case "status": self = .status
        case "macs": self = .macs
        case "metrics": self = .metrics
        case "reload": self = .reload
        case "explain":
            if let ip = wire.ip, wire.mac == nil {
                self = .explainIP(ip)
                return
            }
            guard let text = wire.mac else { throw ControlError(.badArgument, "explain needs \"mac\" or \"ip\"") }
            guard let mac = MACAddress(text) else { throw ControlError(.badArgument, "'\(text)' is not a MAC address like 02:00:5e:10:00:01") }
            self = .explain(mac)
        default:
            throw ControlError(.unknownRequest, "unknown request '\(name)'; known requests are \(Self.names.joined(separator: ", "))")
        }
    }

    private struct WireRequest: Codable {
        var version: Int?
        var request: String?
        var mac: String?
        var ip: String?
    }
}

/// A request the daemon could not answer, with a stable code for scripts and words for people.
public struct ControlError: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Codable, Sendable {
        case malformedRequest = "malformed-request"
        case unsupportedVersion = "unsupported-version"
        case unknownRequest = "unknown-request"
        case badArgument = "bad-argument"
        case requestTooLarge = "request-too-large"
        /// No complete request came in time: within a second of connecting, or between requests.
        case timeout
        /// The connection used up its lifetime; a client reconnects to ask more.
        case connectionExpired = "connection-expired"
        /// The connection sent more requests than one connection may; a client reconnects to ask more.
        case requestBudgetExhausted = "request-budget-exhausted"
        /// The data plane did not answer in time.
        case unavailable
        /// What the request names is not there: an IP address not in the neighbour table.
        case notFound = "not-found"
        /// A reload found the configuration invalid, or changing what cannot change live.
        case invalidConfiguration = "invalid-configuration"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// One reply line: `ok` and exactly one of the bodies.
public struct ControlReply: Codable, Equatable, Sendable {
    public var version = ControlProtocol.version
    public var ok: Bool
    public var status: StatusReport?
    public var macs: [StatusSnapshot.MACEntry]?
    public var explanation: Explanation?
    public var metrics: String?
    public var reload: ReloadOutcome?
    public var error: ControlError?

    public init(status: StatusReport) { ok = true; self.status = status }
    public init(macs: [StatusSnapshot.MACEntry]) { ok = true; self.macs = macs }
    public init(explanation: Explanation) { ok = true; self.explanation = explanation }
    public init(metrics: String) { ok = true; self.metrics = metrics }
    public init(reload: ReloadOutcome) { ok = true; self.reload = reload }
    public init(error: ControlError) { ok = false; self.error = error }

    /// The reply as it goes on the wire, newline included.
    public var line: [UInt8] { ControlJSON.line(self) }

    public init(line: some Collection<UInt8>) throws {
        self = try JSONDecoder().decode(ControlReply.self, from: Data(line))
    }
}

/// The one JSON encoding both ends use: sorted keys, so replies diff cleanly; slashes as they
/// are (a configuration path reads `/etc/causeway/site.toml`, not `\/etc\/…`).
public enum ControlJSON {
    public static func encode(_ value: some Encodable, pretty: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Every type sent here is plain data; encoding it cannot fail.
        return Array(try! encoder.encode(value))
    }

    static func line(_ value: some Encodable) -> [UInt8] {
        encode(value) + [UInt8(ascii: "\n")]
    }
}
