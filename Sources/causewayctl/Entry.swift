import ArgumentParser
import CausewayControl
import CausewayCore

extension Causewayctl {
    /// Before argument-parser: options written before the subcommand (`causewayctl -i site-b
    /// peers`) are moved behind it, where argument-parser takes them; then a mistyped
    /// subcommand gets a "did you mean" (exit 64), which argument-parser gives only for options.
    static func main() {
        let subcommands = configuration.subcommands.map { $0._commandName } + ["help"]
        let arguments = LeadingOptions.rearranged(Array(CommandLine.arguments.dropFirst()), subcommands: subcommands)
        if let message = NameSuggestion.mistypedSubcommand(in: arguments, subcommands: subcommands) {
            exit(withError: ValidationError(message))
        }
        main(arguments)
    }
}
