internal import Glibc

/// One line to stderr (journald under systemd). Lines must never hold a password, token or secret.
public enum Log {
    public static func write(_ line: String) {
        var text = line
        text.append("\n")
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// Whole lines as bytes, each ending with a newline (the worker's batched request lines).
    public static func write(lines: [UInt8]) {
        lines.withUnsafeBytes { write($0) }
    }

    private static func write(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { if errno == EINTR { continue }; return }
            offset += written
        }
    }
}
