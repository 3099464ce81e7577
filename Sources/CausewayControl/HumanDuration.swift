/// Durations for people: "180µs", "850ms", "4.2s", "35s", "2m13s", "3h04m", "2d03h".
public enum HumanDuration {
    public static func format(seconds value: Double) -> String {
        guard value.isFinite else { return "-" }
        if value < 0 { return "-" + format(seconds: -value) }
        if value < 0.001 { return "\(Int((value * 1_000_000).rounded()))µs" }
        if value < 1 { return "\(Int((value * 1000).rounded()))ms" }
        if value < 10 {
            let tenths = Int((value * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let whole = Int(value.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(twoDigits(whole % 60))s" }
        if whole < 86_400 { return "\(whole / 3600)h\(twoDigits(whole / 60 % 60))m" }
        return "\(whole / 86_400)d\(twoDigits(whole / 3600 % 24))h"
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
