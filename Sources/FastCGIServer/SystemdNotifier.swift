internal import CSystem
internal import Glibc

/// `sd_notify` by hand: one datagram to `$NOTIFY_SOCKET` (a leading `@` is an abstract socket).
struct SystemdNotifier {
    let socketPath: String?

    init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func notify(_ state: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        let message = Array(state.utf8)
        _ = SystemCalls.withUnixAddress(path) { address, length in
            sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), address, length)
        }
    }
}
