/// The release both executables report.
public enum CausewayVersion {
    public static let current = "0.1.0"
}
