internal import CSystem
internal import Glibc

/// Where the pool's listening socket comes from.
public enum ListenAddress: Equatable, Sendable {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Parses `unix:PATH` or `HOST:PORT`.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        self = .tcp(host: String(text[..<colon]), port: port)
    }
}

/// The pool's listening sockets: the main one, and optionally one for the password workers (login, register and
/// change-password, routed there by nginx) so that bcrypt never delays an authenticated read.
struct ListeningSockets {
    let main: ListeningSocket
    let password: ListeningSocket?

    /// From systemd (`LISTEN_FDS`: fd 3 the main socket, fd 4 if present the password socket, in the order of the
    /// `.socket` unit's `ListenStream=` lines), from `--listen` / `--listen-password`, or fd 0 (FastCGI's convention).
    static func acquire(listen: ListenAddress?, listenPassword: ListenAddress?, socketMode: UInt32,
                        environment: [String: String]) throws -> ListeningSockets {
        if let count = environment["LISTEN_FDS"].flatMap({ Int($0) }), count >= 1,
           environment["LISTEN_PID"].flatMap({ Int32($0) }) == getpid() {
            // > SD_LISTEN_FDS_START: file descriptors passed start at 3.
            guard count <= 2 else { throw SocketError("systemd passed \(count) sockets; the pool takes one or two") }
            let main = ListeningSocket(fd: try SystemCalls.moveHigh(3), ownedPath: nil)
            let password = count == 2 ? ListeningSocket(fd: try SystemCalls.moveHigh(4), ownedPath: nil) : nil
            return ListeningSockets(main: main, password: password)
        }
        let password = try listenPassword.map { try ListeningSocket.bind($0, socketMode: socketMode) }
        if let listen { return ListeningSockets(main: try ListeningSocket.bind(listen, socketMode: socketMode), password: password) }
        if SystemCalls.isSocket(0) {
            return ListeningSockets(main: ListeningSocket(fd: try SystemCalls.moveHigh(0), ownedPath: nil), password: password)
        }
        throw SocketError("no listening socket: pass --listen unix:PATH or HOST:PORT, use systemd socket activation, or start with the socket on fd 0")
    }

    enum Transport { case unix, tcp }

    /// Whether any socket is on TCP (then only `FASTCGI_ALLOWED_CLIENTS` may connect). An IPv6 socket is refused:
    /// libfcgi filters IPv4 peers only, so an IPv6 (or dual-stack) socket would let every peer through.
    func transport() throws(SocketError) -> Transport {
        var result = Transport.unix
        for socket in [main, password].compactMap({ $0 }) {
            switch SystemCalls.socketFamily(socket.fd) {
            case AF_UNIX: continue
            case AF_INET: result = .tcp
            default: throw SocketError("the pool's listening socket is neither a unix socket nor IPv4 TCP: listen on an IPv4 address (ListenStream=10.0.0.2:9000)")
            }
        }
        return result
    }

    func removeOwnedPaths() {
        for path in [main.ownedPath, password?.ownedPath].compactMap({ $0 }) { unlink(path) }
    }
}

/// One listening socket, and the path to remove on exit if this process created it.
struct ListeningSocket {
    let fd: Int32
    let ownedPath: String?

    static func bind(_ address: ListenAddress, socketMode: UInt32) throws -> ListeningSocket {
        switch address {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError("socket: \(String(cString: strerror(errno)))") }
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { close(fd); throw SocketError("socket path too long: \(path)") }
            unlink(path)  // a stale socket from a previous run
            let bound = SystemCalls.withUnixAddress(bytes) { Glibc.bind(fd, $0, $1) }
            guard bound == 0 else { let e = errno; close(fd); throw SocketError("bind \(path): \(String(cString: strerror(e)))") }
            chmod(path, mode_t(socketMode))
            guard listen(fd, 1024) == 0 else { close(fd); throw SocketError("listen: \(String(cString: strerror(errno)))") }
            return ListeningSocket(fd: try SystemCalls.moveHigh(fd), ownedPath: path)
        case .tcp(let host, let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError("socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
                close(fd)
                throw SocketError("not an IPv4 address: \(host)")
            }
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { let e = errno; close(fd); throw SocketError("bind \(host):\(port): \(String(cString: strerror(e)))") }
            guard listen(fd, 1024) == 0 else { close(fd); throw SocketError("listen: \(String(cString: strerror(errno)))") }
            return ListeningSocket(fd: try SystemCalls.moveHigh(fd), ownedPath: nil)
        }
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
