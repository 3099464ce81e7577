/// The UDP header (RFC 768): 8 bytes, lengths and checksum included.
public enum UDPHeader {
    public static let length = 8
    public static let lengthOffset = 4
    public static let checksumOffset = 6
}
