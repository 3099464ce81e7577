import ArgumentParser
import CausewayControl
import CausewayCore
import CausewayLinux
import Foundation

@main
struct Causewayctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causewayctl",
        abstract: "Ask a running causewayd how its bridge is doing.",
        discussion: """
            Which daemon: --socket PATH; or an instance name (causewayctl status site-b, or \
            -i site-b), meaning \(Configuration.controlSocketDirectory)/site-b.sock; or else the \
            one socket in \(Configuration.controlSocketDirectory). These options may also come \
            before the subcommand (causewayctl -i site-b peers).

            Exit codes: 0 answered (and, with status --check, every peer up); 1 the daemon \
            refused the request; 2 status --check found a peer down, or no peer; 3 no daemon to \
            ask (no socket, nothing listening, or not a socket at the path); 4 permission denied \
            on the socket; 64 a usage error, such as several daemons running here and none named.
            """,
        subcommands: [Status.self, Peers.self, MACs.self, Explain.self, Metrics.self, Reload.self]
    )
}

/// How to reach the daemon, shared by every subcommand.
struct DaemonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's control socket. Default: the instance's, or the one socket in \(Configuration.controlSocketDirectory).", valueName: "path"))
    var socket: String?

    @Option(name: [.short, .long], help: ArgumentHelp("The daemon of configuration NAME.toml: its socket \(Configuration.controlSocketDirectory)/NAME.sock.", valueName: "name"))
    var instance: String?

    /// Where daemons put their sockets. `CAUSEWAY_RUN_DIR` replaces it for the tests alone,
    /// which must not create sockets in the host's own /run/causeway.
    static var socketDirectory: String {
        ProcessInfo.processInfo.environment["CAUSEWAY_RUN_DIR"] ?? Configuration.controlSocketDirectory
    }

    /// The socket to ask, from --socket, -i or `positional` (the subcommand's instance
    /// argument), or the one socket in the directory.
    func socketPath(positional: String? = nil) throws -> String {
        if let positional, let instance, positional != instance {
            throw Failure(message: "two instance names: '\(positional)' and -i '\(instance)'", code: 64)
        }
        let directory = Self.socketDirectory
        let resolution = SocketChoice.resolve(socket: socket, instance: positional ?? instance, directory: directory) {
            (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        }
        switch resolution {
        case .path(let path): return path
        case .noDaemon(let message): throw Failure(message: message, code: 3)
        case .usage(let message): throw Failure(message: message, code: 64)
        }
    }

    /// Sends one request and returns the daemon's successful reply, or exits with a
    /// message that says what went wrong.
    func ask(_ request: ControlRequest, instance positional: String? = nil) throws -> ControlReply {
        let path = try socketPath(positional: positional)
        let reply: ControlReply
        do {
            let stream = try UnixStream.connect(path: path, timeout: .seconds(10))
            try stream.writeAll(request.line)
            reply = try ControlReply(line: try stream.readLine())
        } catch let error as ControlSocketError {
            throw Failure(message: error.description, code: Self.exitCode(for: error))
        } catch {
            throw Failure(message: "talking to causewayd on \(path): \(error)", code: 3)
        }
        if let error = reply.error {
            throw Failure(message: "causewayd refused '\(request.name)': \(error)", code: 1)
        }
        return reply
    }

    /// The instance name a subcommand takes as its argument: `causewayctl status site-b`.
    struct Instance: ParsableArguments {
        @Argument(help: ArgumentHelp("The daemon of configuration NAME.toml, as -i NAME.", valueName: "name"))
        var name: String?
    }

    private static func exitCode(for error: ControlSocketError) -> Int32 {
        switch error {
        case .permissionDenied: 4
        default: 3
        }
    }
}

/// A failure already put into words: printed as one line, then the exit code.
struct Failure: Error, CustomStringConvertible {
    let message: String
    let code: Int32
    var description: String { message }
}

/// Prints a failure as one line on stderr and exits with its code.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as Failure {
        FileHandle.standardError.write(Data("causewayctl: \(failure.message)\n".utf8))
        throw ExitCode(failure.code)
    }
}

func printJSON(_ value: some Encodable) {
    print(String(decoding: ControlJSON.encode(value, pretty: true), as: UTF8.self))
}

extension Causewayctl {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The gateway and each peer in a few lines; --all for devices and every counter.",
            discussion: """
                --check prints one line and exits 0 when every peer is up, \(StatusCheck.downExitCode) when a \
                peer is down or none is configured (3 when no daemon answers): for monitoring scripts.
                """
        )
        @OptionGroup var target: DaemonOptions.Instance
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of text.") var json = false
        @Flag(help: "Print everything: devices, a table of peers, every counter and every drop reason.") var all = false
        @Flag(help: "Print one line and exit \(StatusCheck.downExitCode) if any peer is down, or no peer is configured.") var check = false

        func validate() throws {
            if check, json || all { throw ValidationError("--check prints one line: it goes without --json and --all") }
        }

        func run() throws {
            try reporting {
                guard let report = try daemon.ask(.status, instance: target.name).status else { throw Failure(message: "the reply has no status", code: 1) }
                if check {
                    let outcome = StatusCheck(report)
                    print(outcome.line)
                    if !outcome.healthy { throw ExitCode(outcome.exitCode) }
                } else if json {
                    printJSON(report)
                } else {
                    print(all ? HumanReport.fullStatus(report) : HumanReport.status(report), terminator: "")
                }
            }
        }
    }

    struct Peers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every peer: key, endpoint, state, latest handshake, RTT, path MTU, traffic, drops.")
        @OptionGroup var target: DaemonOptions.Instance
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            try reporting {
                guard let report = try daemon.ask(.status, instance: target.name).status else { throw Failure(message: "the reply has no status", code: 1) }
                if json { printJSON(report.peers) } else { print(HumanReport.peers(report), terminator: "") }
            }
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-read the configuration and apply it, as SIGHUP does: peers added, removed or moved, without touching the others.",
            discussion: "An invalid configuration is refused with its error (exit 1) and the running one stays."
        )
        @OptionGroup var target: DaemonOptions.Instance
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            try reporting {
                guard let outcome = try daemon.ask(.reload, instance: target.name).reload else { throw Failure(message: "the reply has no reload outcome", code: 1) }
                if json { printJSON(outcome) } else { print("reloaded: \(outcome.summary)") }
            }
        }
    }

    struct MACs: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "macs", abstract: "The MAC table: where each address is, its age and expiry.")
        @OptionGroup var target: DaemonOptions.Instance
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            try reporting {
                guard let macs = try daemon.ask(.macs, instance: target.name).macs else { throw Failure(message: "the reply has no MAC table", code: 1) }
                if json { printJSON(macs) } else { print(HumanReport.macs(macs), terminator: "") }
            }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where a frame from this site's LAN to a MAC address, or to the MAC of an IP address, goes now, and why.",
            discussion: """
                A MAC address may be written with colons or dashes, in either case (02:00:5e:10:00:01, \
                02-00-5E-10-00-01). An IP address (IPv4 or IPv6) is looked up in the gateway's neighbour \
                table (ip neigh); one the gateway has not talked to lately is not there (exit 1).
                """
        )
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of text.") var json = false
        @Argument(help: ArgumentHelp("A MAC address (02:00:5e:10:00:01, 02-00-5E-10-00-01) or an IP address.", valueName: "address"))
        var address: String

        /// The request the argument makes: a MAC, or an IP address for the daemon to look up.
        var request: ControlRequest? {
            if let mac = MACAddress(address) { return .explain(mac) }
            if IPAddressText.bytes(address) != nil { return .explainIP(address) }
            return nil
        }

        func validate() throws {
            guard request != nil else {
                throw ValidationError("'\(address)' is not a MAC address like 02:00:5e:10:00:01 (or 02-00-5E-10-00-01) nor an IP address")
            }
        }

        func run() throws {
            try reporting {
                guard let explanation = try daemon.ask(request!).explanation else {
                    throw Failure(message: "the reply has no explanation", code: 1)
                }
                if json { printJSON(explanation) } else { print(HumanReport.explanation(explanation), terminator: "") }
            }
        }
    }

    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counters and gauges in the Prometheus text format.")
        @OptionGroup var target: DaemonOptions.Instance
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            try reporting {
                guard let text = try daemon.ask(.metrics, instance: target.name).metrics else { throw Failure(message: "the reply has no metrics", code: 1) }
                print(text, terminator: "")
            }
        }
    }
}
