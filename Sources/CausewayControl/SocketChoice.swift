/// Which control socket causewayctl asks: `--socket PATH`, an instance name (`status site-b`,
/// `-i site-b`: `DIRECTORY/site-b.sock`), or else the one socket in the directory. Pure, so
/// that every rule is tested without a daemon; causewayctl lists the directory.
public enum SocketChoice {
    public enum Resolution: Equatable, Sendable {
        /// Ask the daemon on this path.
        case path(String)
        /// Nobody to ask: causewayctl exits 3.
        case noDaemon(String)
        /// The question is ambiguous or malformed: causewayctl exits 64.
        case usage(String)
    }

    /// - Parameters:
    ///   - socket: `--socket`, if given.
    ///   - instance: `-i`/`--instance` or the positional name, if given.
    ///   - directory: where daemons put their sockets (`Configuration.controlSocketDirectory`).
    ///   - listing: the names of the files in `directory`; called only when needed.
    public static func resolve(
        socket: String?, instance: String?, directory: String, listing: () -> [String]
    ) -> Resolution {
        if let socket, let instance {
            return .usage("give either --socket or an instance name, not both (--socket \(socket), instance \(instance))")
        }
        if let socket { return .path(socket) }
        if let instance {
            var name = instance
            if name.hasSuffix(".sock") { name.removeLast(5) }
            guard isInstanceName(name) else {
                return .usage("'\(instance)' is not an instance name like site-b (letters, digits, '.', '_', '-'); give a path with --socket PATH")
            }
            return .path("\(directory)/\(name).sock")
        }
        let instances = listing().filter { $0.hasSuffix(".sock") }.map { String($0.dropLast(5)) }.sorted()
        switch instances.count {
        case 0:
            return .noDaemon("no control socket in \(directory): causewayd is not running here, or uses another socket (--socket PATH)")
        case 1:
            return .path("\(directory)/\(instances[0]).sock")
        default:
            return .usage("several daemons run here: \(instances.joined(separator: ", ")) (sockets in \(directory)); name one, as in 'causewayctl status \(instances[0])' or '-i \(instances[0])'")
        }
    }

    /// The instance names a configuration file `NAME.toml` gives: no slash, not hidden.
    static func isInstanceName(_ name: String) -> Bool {
        guard let first = name.first, first != "." else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) }
    }
}

/// Options that every subcommand takes, accepted before the subcommand as well:
/// `causewayctl --socket X status` and `causewayctl -i site-b peers` are moved behind the
/// subcommand before argument-parser sees them, which otherwise takes options only after it.
public enum LeadingOptions {
    /// The options that take a value, as they may be written.
    public static let valueOptions = ["--socket", "--instance", "-i"]

    /// The arguments with the shared options found before the first subcommand moved behind
    /// it; unchanged when there are none or no subcommand follows. `subcommands` is kept
    /// for the reader: any word that is not an option stands where the subcommand goes.
    public static func rearranged(_ arguments: [String], subcommands: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            // The subcommand, or a word where it belongs (a typo, left for "did you mean").
            if subcommands.contains(argument) || !argument.hasPrefix("-") {
                guard !leading.isEmpty else { return arguments }
                return [argument] + arguments[(index + 1)...] + leading
            }
            if valueOptions.contains(argument), index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if valueOptions.contains(where: { argument.hasPrefix($0 + "=") }) {
                leading.append(argument)
                index += 1
            } else {
                // Anything else before a subcommand (--help, --version, a typo): leave it all
                // to argument-parser, which says what is wrong.
                return arguments
            }
        }
        return arguments
    }
}
