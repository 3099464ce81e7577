import ArgumentParser
import CausewayCore
import CausewayDaemon
import CausewayLinux
import Foundation
import Logging

@main
struct Causewayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causewayd",
        abstract: "Joins this site's LAN to a peer site's LAN over an encrypted UDP link.",
        version: CausewayVersion.current,
        subcommands: [Run.self, Check.self, GenKey.self, PubKey.self, GenPSK.self]
    )
}

/// Exits with the startup error's code after printing it, so a bad configuration is one
/// clear line on stderr rather than a stack of wrapped errors.
func exitOnStartupError<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StartupError {
        printError("causewayd: \(error.description)")
        throw ExitCode(error.exitCode)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Causewayd {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set up the bridge and carry frames until SIGTERM or SIGINT.")

        @Option(name: .shortAndLong, help: "The site's TOML configuration file.")
        var config: String

        func run() async throws {
            DaemonLogging.bootstrap()
            try await exitOnStartupError { try await Daemon.run(configPath: config) }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration, its key file and its devices without changing anything.")

        @Option(name: .shortAndLong, help: "The site's TOML configuration file.")
        var config: String

        func run() async throws {
            let result = try await exitOnStartupError { try Daemon.check(configPath: config) }
            let (checked, identities) = (result.configuration, result.identities)
            let siteKey = identities[0].local.publicKey
            print("\(config): OK — bridge \(checked.bridge), LAN \(checked.lanInterface), TAP \(checked.tap) (\(checked.tapAddress(siteKey: siteKey))), listen \(checked.listen), \(checked.peers.count) \(checked.peers.count == 1 ? "peer" : "peers")\(checked.hub ? ", a hub" : "")")
            print("  this site's public key: \(siteKey.base64)")
            for peer in checked.peers {
                let role = peer.isHub ? ", a hub" : ""
                print("  peer \(peer.name): \(peer.endpoint.map { "\($0)" } ?? "calls in")\(role), public key \(peer.publicKey.base64)")
            }
            print("  pre-shared key: \(checked.presharedKeyFile ?? "none")")
            if result.runningInstance {
                print("  a causewayd of this configuration runs now: its TAP and port are taken as its; `causewayctl reload` (or SIGHUP) applies this file")
            }
        }
    }

    struct GenKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "genkey",
            abstract: "Write a new private key for this site (base64 Curve25519): to a new file with mode 0600, or to stdout.",
            discussion: "Then `causewayd pubkey FILE` prints the public key to give the peer site, as `wg genkey | wg pubkey`."
        )

        @Argument(help: "A file to create; it must not exist yet.")
        var output: String?

        func run() throws {
            try writeKey(PrivateKey.random().base64, to: output)
        }
    }

    struct PubKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pubkey",
            abstract: "Print the public key of a private key read from a file or from stdin."
        )

        @Argument(help: "The private key file; without it, the key is read from stdin.")
        var input: String?

        func run() throws {
            var bytes: [UInt8]
            if let input {
                do {
                    bytes = try ProtectedFile.read(input, as: .secret)
                } catch {
                    printError("causewayd: \(error)")
                    throw ExitCode(1)
                }
            } else {
                bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
            }
            defer { bytes.overwriteWithZeros() }
            do {
                print(try PrivateKey(base64: String(decoding: bytes, as: UTF8.self)).publicKey.base64)
            } catch {
                printError("causewayd: \(input ?? "stdin"): the private key \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct GenPSK: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "genpsk",
            abstract: "Write a new pre-shared key (base64, optional, both sites hold the same): to a new file with mode 0600, or to stdout."
        )

        @Argument(help: "A file to create; it must not exist yet.")
        var output: String?

        func run() throws {
            try writeKey(PreSharedKey.random().base64, to: output)
        }
    }
}

/// A new key to stdout, or to a new file of mode 0600 that must not exist yet.
func writeKey(_ text: String, to output: String?) throws {
    guard let output else {
        print(text)
        return
    }
    do {
        try ConfigurationLoader.writeNewKey(text, to: output)
    } catch {
        printError("causewayd: \(output): \(error)")
        throw ExitCode(1)
    }
}
