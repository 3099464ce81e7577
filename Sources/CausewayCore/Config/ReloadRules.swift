/// What a reload (SIGHUP, `causewayctl reload`) may change while causewayd runs: the peers
/// always; of the other keys, those marked live here. A file that changes any other key is
/// refused as a whole.
public enum ReloadRules {
    /// Every key but the peers': whether a reload applies it while causewayd runs
    /// (DataPath.applyLiveSettings, `hub`, and the log level every logger reads), and how to
    /// tell that it changed. ReloadRulesTests checks that every key is here.
    public static let keys: [(key: Configuration.Key, live: Bool, differs: @Sendable (Configuration, Configuration) -> Bool)] = [
        (.hub, true, { $0.hub != $1.hub }),
        (.keepaliveInterval, true, { $0.keepaliveInterval != $1.keepaliveInterval }),
        (.macAgingTime, true, { $0.macAgingTime != $1.macAgingTime }),
        (.floodRate, true, { $0.floodRate != $1.floodRate }),
        (.floodBurst, true, { $0.floodBurst != $1.floodBurst }),
        (.icmpTooBig, true, { $0.icmpTooBig != $1.icmpTooBig }),
        (.logLevel, true, { $0.logLevel != $1.logLevel }),
        (.bridge, false, { $0.bridge != $1.bridge }),
        (.lanInterface, false, { $0.lanInterface != $1.lanInterface }),
        (.tap, false, { $0.tap != $1.tap }),
        (.listen, false, { $0.listen != $1.listen }),
        (.privateKeyFile, false, { $0.privateKeyFile != $1.privateKeyFile }),
        (.presharedKeyFile, false, { $0.presharedKeyFile != $1.presharedKeyFile }),
        (.networkID, false, { $0.networkID != $1.networkID }),
        (.macTableSize, false, { $0.macTableSize != $1.macTableSize }),
        (.controlSocket, false, { $0.controlSocket != $1.controlSocket }),
        (.migrateAddresses, false, { $0.migrateAddresses != $1.migrateAddresses }),
        (.macHoldTime, false, { $0.macHoldTime != $1.macHoldTime }),
        (.dataPlaneThreads, false, { $0.dataPlaneThreads != $1.dataPlaneThreads }),
        (.cipher, false, { $0.cipher != $1.cipher }),
    ]

    public static var liveKeys: [Configuration.Key] { keys.filter(\.live).map(\.key) }

    /// The keys a reload applies live whose values differ.
    public static func liveKeysChanged(from old: Configuration, to new: Configuration) -> [String] {
        keys.filter { $0.live && $0.differs(old, new) }.map(\.key.rawValue)
    }

    /// The keys whose values differ, among those only a restart applies, quoted.
    public static func keysThatCannotChangeLive(from old: Configuration, to new: Configuration) -> [String] {
        keys.filter { !$0.live && $0.differs(old, new) }.map { "'\($0.key.rawValue)'" }
    }
}
