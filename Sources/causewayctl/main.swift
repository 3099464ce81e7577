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
            Exit codes: 0 answered; 1 the daemon refused the request; 3 no daemon to ask \
            (no socket, or nothing listening); 4 permission denied on the socket.
            """,
        subcommands: [Status.self, Peers.self, MACs.self, Explain.self, Metrics.self, Reload.self]
    )
}

/// How to reach the daemon, shared by every subcommand.
struct DaemonOptions: ParsableArguments {
    @Option(help: "The daemon's control socket. Default: the one socket in \(Configuration.controlSocketDirectory).")
    var socket: String?

    /// Sends one request and returns the daemon's successful reply, or exits with a
    /// message that says what went wrong.
    func ask(_ request: ControlRequest) throws -> ControlReply {
        let path = try socket ?? Self.onlySocket()
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

    private static func onlySocket() throws -> String {
        let directory = Configuration.controlSocketDirectory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".sock") }.sorted()
        switch names.count {
        case 1:
            return "\(directory)/\(names[0])"
        case 0:
            throw Failure(message: "no control socket in \(directory): causewayd is not running here, or uses another socket (--socket PATH)", code: 3)
        default:
            throw Failure(message: "several daemons run here (\(names.joined(separator: ", ")) in \(directory)); choose one with --socket PATH", code: 3)
        }
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
        static let configuration = CommandConfiguration(abstract: "The daemon, its devices, its peers and every counter.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of tables.") var json = false

        func run() throws {
            try reporting {
                guard let report = try daemon.ask(.status).status else { throw Failure(message: "the reply has no status", code: 1) }
                if json { printJSON(report) } else { print(HumanReport.status(report), terminator: "") }
            }
        }
    }

    struct Peers: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every peer: key, endpoint, state, latest handshake, RTT, path MTU, traffic, drops.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            try reporting {
                guard let report = try daemon.ask(.status).status else { throw Failure(message: "the reply has no status", code: 1) }
                if json { printJSON(report.peers) } else { print(HumanReport.peers(report), terminator: "") }
            }
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-read the configuration and apply it, as SIGHUP does: peers added, removed or moved, without touching the others.",
            discussion: "An invalid configuration is refused with its error (exit 1) and the running one stays."
        )
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() throws {
            try reporting {
                guard let outcome = try daemon.ask(.reload).reload else { throw Failure(message: "the reply has no reload outcome", code: 1) }
                if json { printJSON(outcome) } else { print("reloaded: \(outcome.summary)") }
            }
        }
    }

    struct MACs: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "macs", abstract: "The MAC table: where each address is, its age and expiry.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() throws {
            try reporting {
                guard let macs = try daemon.ask(.macs).macs else { throw Failure(message: "the reply has no MAC table", code: 1) }
                if json { printJSON(macs) } else { print(HumanReport.macs(macs), terminator: "") }
            }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Where a frame from this site's LAN to a MAC address goes now, and why.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON instead of text.") var json = false
        @Argument(help: "A MAC address, as 02:00:5e:10:00:01.") var mac: String

        func validate() throws {
            guard MACAddress(mac) != nil else { throw ValidationError("'\(mac)' is not a MAC address like 02:00:5e:10:00:01") }
        }

        func run() throws {
            try reporting {
                guard let explanation = try daemon.ask(.explain(MACAddress(mac)!)).explanation else {
                    throw Failure(message: "the reply has no explanation", code: 1)
                }
                if json { printJSON(explanation) } else { print(HumanReport.explanation(explanation), terminator: "") }
            }
        }
    }

    struct Metrics: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counters and gauges in the Prometheus text format.")
        @OptionGroup var daemon: DaemonOptions

        func run() throws {
            try reporting {
                guard let text = try daemon.ask(.metrics).metrics else { throw Failure(message: "the reply has no metrics", code: 1) }
                print(text, terminator: "")
            }
        }
    }
}
