import Testing
@testable import CausewayLinux

/// The alias a created bridge carries reads back as what was written, and nothing an
/// operator might write instead passes for it: a wrong reading would delete their bridge.
@Suite struct BridgeMarkTests {
    @Test func aMarkReadsBackAsWritten() {
        for mark in [BridgeMark(tap: "cw0", nicThatWasDown: nil), BridgeMark(tap: "cw0", nicThatWasDown: "eth1")] {
            #expect(BridgeMark(alias: mark.description) == mark)
        }
        #expect(BridgeMark(tap: "cw0", nicThatWasDown: nil).description == "causeway: created for cw0")
        #expect(BridgeMark(tap: "cw0", nicThatWasDown: "eth1").description == "causeway: created for cw0; eth1 was down")
    }

    @Test func otherAliasesAreNotMarks() {
        for alias in ["", "office LAN", "causeway", "causeway: created for ", "Causeway: created for cw0",
                      "causeway: created for cw0; eth1", "causeway: created for cw0; eth1 was down; more", "causeway: created for cw0;  was down"] {
            #expect(BridgeMark(alias: alias) == nil, "\(alias)")
        }
    }
}
