/// Byte counts for people, in binary units as `wg show` and `ip -h` print them: "512 B",
/// "4.0 KiB", "340 MiB", "1.2 GiB". One decimal below ten units, none above.
public enum HumanBytes {
    static let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    public static func format(_ bytes: UInt64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        // 1023.7 KiB would round to "1024 KiB": that is 1.0 MiB.
        if value.rounded() >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if value < 9.95 {
            let tenths = Int((value * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) \(units[unit])"
        }
        return "\(Int(value.rounded())) \(units[unit])"
    }
}
