import CLinuxShim

/// The kernel's name of a thread: what `top -H`, `ps -L` and /proc/PID/task/TID/comm show.
public enum ThreadName {
    /// The longest name the kernel keeps, in bytes.
    public static let maximumLength = 15

    /// Names the calling thread, cut to `maximumLength` bytes.
    public static func set(_ name: String) {
        _ = cw_name_this_thread(String(decoding: name.utf8.prefix(maximumLength), as: UTF8.self))
    }
}
