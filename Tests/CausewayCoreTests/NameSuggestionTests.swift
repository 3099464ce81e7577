import Testing
@testable import CausewayCore

@Suite struct NameSuggestionTests {
    static let keys = Configuration.Key.allCases.map(\.rawValue)

    @Test(arguments: [
        ("lan-interfce", "lan-interface"),
        ("lan_interface", "lan-interface"),
        ("LAN-Interface", "lan-interface"),
        ("privat-key-file", "private-key-file"),
        ("mac-aging-tme", "mac-aging-time"),
        ("macagingtime", "mac-aging-time"),
        ("lisen", "listen"),
        ("brige", "bridge"),
        ("tab", "tap"),
    ])
    func suggestsTheNearKey(typed: String, expected: String) {
        #expect(NameSuggestion.nearest(to: typed, among: Self.keys) == expected)
    }

    @Test(arguments: ["colour", "x", "mac-aging", "endpoint", "keepalive", ""])
    func staysSilentWhenNothingIsClose(typed: String) {
        #expect(NameSuggestion.nearest(to: typed, among: Self.keys) == nil)
    }

    @Test func staysSilentOnATie() {
        // "cat" is one edit from both: a suggestion would be a coin toss.
        #expect(NameSuggestion.nearest(to: "cat", among: ["cap", "car"]) == nil)
        #expect(NameSuggestion.nearest(to: "cap", among: ["cap", "car"]) == "cap")
    }

    @Test func suggestsSubcommands() {
        let subcommands = ["status", "macs", "explain", "metrics"]
        #expect(NameSuggestion.nearest(to: "stauts", among: subcommands) == "status")
        #expect(NameSuggestion.nearest(to: "metric", among: subcommands) == "metrics")
        #expect(NameSuggestion.nearest(to: "frobnicate", among: subcommands) == nil)
    }

    @Test(arguments: [0, 1, 2, 5])
    func editDistanceCountsEdits(length: Int) {
        let word = Array(String(repeating: "a", count: length))
        #expect(NameSuggestion.editDistance(word, word) == 0)
        #expect(NameSuggestion.editDistance(word, []) == length)
        #expect(NameSuggestion.editDistance(Array("kitten"), Array("sitting")) == 3)
    }

    @Test func theParserNamesTheNearKey() throws {
        let text = ConfigurationTests.minimal + "\nmac-aging-tme = 60"
        let error = try #require(ConfigurationTests().problem(text))
        #expect(error.description.contains("key 'mac-aging-tme': unknown key; did you mean 'mac-aging-time'? known keys are "), "\(error)")
    }

    @Test func theParserNamesTheNearPeerKey() throws {
        let text = ConfigurationTests.minimal("peer.endpoint", nil) + "\nendpont = \"198.18.0.2:51820\""
        let error = try #require(ConfigurationTests().problem(text))
        #expect(error.description.contains("key 'peer.endpont': unknown key; did you mean 'peer.endpoint'?"), "\(error)")
    }
}

@Suite struct MistypedSubcommandTests {
    static let subcommands = ["status", "macs", "explain", "metrics", "help"]

    @Test func namesTheNearSubcommand() {
        #expect(NameSuggestion.mistypedSubcommand(in: ["stauts", "--json"], subcommands: Self.subcommands)
            == "Unknown subcommand 'stauts'. Did you mean 'status'?")
    }

    @Test(arguments: [[], ["status"], ["--socket", "x"], ["frobnicate"], ["--help"]])
    func leavesTheRestToTheParser(arguments: [String]) {
        #expect(NameSuggestion.mistypedSubcommand(in: arguments, subcommands: Self.subcommands) == nil)
    }
}
