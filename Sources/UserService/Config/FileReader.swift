internal import Glibc

public enum FileReader {
    /// The whole file as bytes, or nil when it cannot be opened or read.
    public static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; return nil }
            if count == 0 { return out }
            out.append(contentsOf: chunk[0..<count])
        }
    }

    public static func readText(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// File names in `directory`, unsorted; nil when it cannot be listed.
    public static func listDirectory(_ directory: String) -> [String]? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension FileReader {
    /// Who may have access to a file `readSmallFile` reads.
    public enum Access: Sendable {
        case anyone
        /// A secret: the file itself (not a symbolic link), this process's user's, with no group or other bit set.
        case ownerOnly
    }

    /// Why `readSmallFile` refused a file.
    public enum Refusal: Error, Equatable, Sendable {
        case cannotOpen
        case symbolicLink
        case notRegularFile
        case tooLarge(limit: Int)
        case accessibleToOthers
        case ownedByAnotherUser
    }

    /// A regular file of at most `limit` bytes. It is opened once and every check is made on that descriptor, then
    /// read from it: what was checked is what is read, even if the path is replaced meanwhile. Opened non-blocking,
    /// so a FIFO (or a device) is refused after `fstat` instead of blocking the open or the read; a file larger than
    /// `limit` is refused, not read (`/dev/zero` never ends).
    public static func readSmallFile(_ path: String, limit: Int, access: Access) -> Result<[UInt8], Refusal> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (access == .ownerOnly ? O_NOFOLLOW : 0))
        guard fd >= 0 else { return .failure(errno == ELOOP && access == .ownerOnly ? .symbolicLink : .cannotOpen) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure(.cannotOpen) }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure(.notRegularFile) }
        if access == .ownerOnly {
            guard status.st_mode & 0o077 == 0 else { return .failure(.accessibleToOthers) }
            guard status.st_uid == geteuid() else { return .failure(.ownedByAnotherUser) }
        }
        guard status.st_size <= limit else { return .failure(.tooLarge(limit: limit)) }
        // The size may have changed since fstat: read at most one byte more than allowed, to see it.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 { if errno == EINTR { continue }; return .failure(.cannotOpen) }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else { return .failure(.tooLarge(limit: limit)) }
        return .success(Array(bytes.prefix(filled)))
    }
}
