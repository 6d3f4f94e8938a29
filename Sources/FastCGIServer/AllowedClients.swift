internal import Glibc

/// `FASTCGI_ALLOWED_CLIENTS`: the front ends that may connect to a pool listening on TCP. FastCGI has neither
/// authentication nor encryption, so a pool on TCP refuses to start without this list, and its workers close any
/// other peer's connection right after `accept`, before reading a byte: libfcgi does that for the addresses in
/// `FCGI_WEB_SERVER_ADDRS`, which the master sets for its workers from this list. libfcgi compares the peer's IPv4
/// address with each entry's, so entries are exact IPv4 addresses (written in canonical form); networks (CIDRs) and
/// IPv6 belong in the socket unit's `IPAddressAllow=`, and IPv6 listening sockets are refused (libfcgi lets every
/// IPv6 peer through). The filter is by address only: every process on a listed host may connect (docs/deploy.md).
struct AllowedClients: Equatable {
    static let variable = "FASTCGI_ALLOWED_CLIENTS"
    /// libfcgi's own variable, read once by `FCGX_Init` in each worker.
    static let libraryVariable = "FCGI_WEB_SERVER_ADDRS"

    let addresses: [String]

    /// The list in `environment` (comma- or space-separated); nil when unset or empty.
    init?(_ environment: [String: String]) throws(SocketError) {
        let entries = (environment[Self.variable] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        guard !entries.isEmpty else { return nil }
        addresses = try entries.enumerated().map { index, entry throws(SocketError) in
            var address = in_addr()
            guard inet_pton(AF_INET, entry, &address) == 1 else {
                throw SocketError("\(Self.variable): entry \(index + 1) is not an IPv4 address (networks go in the socket unit's IPAddressAllow=)")
            }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            inet_ntop(AF_INET, &address, &text, socklen_t(INET_ADDRSTRLEN))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The workers' environment for a pool on `transport`: on TCP, libfcgi's filter set from the list, which must
    /// exist; on a unix socket (reached only through its file's permissions) no filter. Either way the library's
    /// variable comes from here only.
    static func workerEnvironment(_ environment: [String: String], transport: ListeningSockets.Transport) throws(SocketError) -> [String: String] {
        var result = environment
        result[libraryVariable] = nil
        guard transport == .tcp else { return result }
        guard let clients = try AllowedClients(environment) else {
            throw SocketError("the pool listens on TCP: set \(variable) to the front ends' IPv4 addresses (FastCGI has no authentication)")
        }
        result[libraryVariable] = clients.addresses.joined(separator: ",")
        return result
    }
}
