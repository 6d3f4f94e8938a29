import HTTP
import Postgres
import UserService

#if canImport(Glibc)
import Glibc
#endif

/// `users export` and `users import`: the file handling (streams, modes, progress); the SQL is `UsersExport`'s and
/// `UsersImporter`'s.
extension UsersCommand {
    /// Without `--output`: JSON lines on standard output and nothing else (the count goes to standard error). With it:
    /// a new file, created 0600 with O_EXCL (an existing file is never overwritten), removed again if the export fails.
    static func exportAccounts(_ parsed: Arguments) throws -> Int32 {
        guard parsed.positionals.isEmpty else { throw UsageError(message: "export takes no argument but --output FILE") }
        refuseMigrationURL(in: parsed.values["--env-file"], "users")
        let environment = loadEnvironment(parsed.values["--env-file"])
        let path = parsed.values["--output"]
        return runReportingFailure("users export") {
            let (connection, _) = try connect(environment, statementTimeout: 0)
            let output = try OutputFile(path: path)
            do {
                let count = try UsersExport(connection: connection).run { line in try output.write(line) }
                try output.close()
                Log.write("user-service: exported \(count) account(s)" + (path.map { " to \($0)" } ?? ""))
            } catch {
                output.abandon()
                throw error
            }
        }
    }

    /// Reads FILE (or standard input for `-`) line by line, never more than one batch in memory. Exit 0 when every
    /// line was imported or already present, 3 when some were skipped (each reported on standard error by number),
    /// 1 when the import stopped (what was committed before stays: re-run it).
    static func importAccounts(_ parsed: Arguments) throws -> Int32 {
        guard parsed.positionals.count == 1 else { throw UsageError(message: "import takes one FILE (or - for standard input)") }
        refuseMigrationURL(in: parsed.values["--env-file"], "users")
        let environment = loadEnvironment(parsed.values["--env-file"])
        let path = parsed.positionals[0]
        var skipped = false
        let status = runReportingFailure("users import") {
            let reader = try LineReader(path: path)
            defer { reader.close() }
            let (connection, _) = try connect(environment, statementTimeout: 0)
            let progress = Progress(totalBytes: reader.size)
            let importer = UsersImporter(connection: connection, withRoles: parsed.flags.contains("--with-roles")) { line, message in
                progress.clear()
                Log.write("user-service: \(path): line \(line): \(message): skipped")
            }
            while let line = try reader.next() {
                if line.tooLong {
                    progress.clear()
                    Log.write("user-service: \(path): line \(line.number): longer than \(LineReader.maximumLine) bytes: skipped")
                    skipped = true
                    continue
                }
                try importer.add(line: line.number, line.bytes)
                progress.update(lines: line.number, bytes: reader.consumed)
            }
            try importer.flush()
            progress.clear()
            let report = importer.report
            skipped = skipped || report.skipped > 0
            Log.write("user-service: import: \(report.lines) line(s): \(report.imported) imported, \(report.present) already present, "
                      + "\(report.skipped) skipped")
            if report.legacyPremium > 0 {
                Log.write("user-service: import: \(report.legacyPremium) account(s) had is_premium and no plan: imported as "
                          + UsersImporter.legacyPremiumTerms)
            }
        }
        return status == 0 && skipped ? 3 : status
    }
}

/// What a file-system call could not do, with the path and errno's text.
struct FileError: Error, CustomStringConvertible {
    let description: String

    init(_ what: String, _ path: String, errno code: Int32 = errno) {
        description = "\(what) \(path): \(String(cString: strerror(code)))"
    }
}

/// A buffered writer on standard output or on a new file (0600 unless said: never readable by others by accident).
final class OutputFile {
    private let fd: Int32
    private let path: String?
    private var buffer: [UInt8] = []

    init(path: String?, mode: mode_t = 0o600) throws {
        self.path = path
        guard let path else { fd = 1; return }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else {
            throw errno == EEXIST ? FileError("refusing to overwrite", path, errno: EEXIST) : FileError("cannot create", path)
        }
        self.fd = fd
        _ = fchmod(fd, mode)  // whatever the umask
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileError("cannot write", path ?? "standard output")
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if path != nil {
            guard fsync(fd) == 0, Glibc.close(fd) == 0 else { throw FileError("cannot write", path ?? "") }
        }
    }

    /// After a failure: a partial file is removed.
    func abandon() {
        guard let path else { return }
        _ = Glibc.close(fd)
        _ = unlink(path)
    }
}

/// Lines of a file or of standard input, read in 64 KiB blocks; a line longer than `maximumLine` is skipped whole
/// (reported, its bytes never kept), so memory stays bounded whatever the input.
final class LineReader {
    static let maximumLine = 1 << 20

    struct Line {
        let number: Int
        let bytes: ArraySlice<UInt8>
        let tooLong: Bool
    }

    private let fd: Int32
    private let path: String
    /// The file's size when it is a regular file (for the time left), else nil.
    let size: Int?
    private(set) var consumed = 0
    private var block = [UInt8](repeating: 0, count: 1 << 16)
    private var blockStart = 0
    private var blockEnd = 0
    private var current: [UInt8] = []
    private var overflow = false
    private var number = 0
    private var ended = false

    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileError("cannot open", path) }
        }
        var status = stat()
        size = fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG ? Int(status.st_size) : nil
    }

    func next() throws -> Line? {
        while true {
            if blockStart == blockEnd {
                if ended { break }
                let count = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw FileError("cannot read", path)
                }
                if count == 0 { ended = true; break }
                blockStart = 0
                blockEnd = count
            }
            let newline = block[blockStart..<blockEnd].firstIndex(of: 0x0A)
            let end = newline ?? blockEnd
            if !overflow {
                if current.count + (end - blockStart) > Self.maximumLine {
                    overflow = true
                    current.removeAll()
                } else {
                    current.append(contentsOf: block[blockStart..<end])
                }
            }
            consumed += end - blockStart + (newline == nil ? 0 : 1)
            blockStart = newline.map { $0 + 1 } ?? blockEnd
            if newline != nil { return take() }
        }
        // The last line, without a newline.
        return current.isEmpty && !overflow ? nil : take()
    }

    private func take() -> Line {
        number += 1
        defer {
            current.removeAll(keepingCapacity: current.count <= 1 << 16)
            overflow = false
        }
        return Line(number: number, bytes: current[...], tooLong: overflow)
    }

    func close() {
        if fd != 0 { _ = Glibc.close(fd) }
    }
}

/// One line on standard error, rewritten at most twice a second, only when standard error is a terminal: lines done,
/// lines per second and, for a regular file, the time left (from the bytes read).
final class Progress {
    private let enabled = isatty(2) == 1
    private let totalBytes: Int?
    private let started = Progress.now()
    private var lastShown = 0.0
    private var shown = false

    init(totalBytes: Int?) { self.totalBytes = totalBytes }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    func update(lines: Int, bytes: Int) {
        guard enabled, lines % 256 == 0 else { return }
        let now = Self.now()
        guard now - lastShown >= 0.5 else { return }
        lastShown = now
        let elapsed = max(now - started, 0.001)
        var text = "\r\u{1B}[Kimporting: \(lines) lines, \(Int(Double(lines) / elapsed)) lines/s"
        if let totalBytes, bytes > 0, totalBytes > bytes {
            text += ", about \(Int(elapsed * Double(totalBytes - bytes) / Double(bytes)) + 1) s left"
        }
        writeStandardError(text)
        shown = true
    }

    func clear() {
        guard shown else { return }
        writeStandardError("\r\u{1B}[K")
        shown = false
    }
}

/// Text on standard error as it is (a prompt, a progress line): no newline added, no buffering.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
