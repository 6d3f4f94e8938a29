/// What a server runs: a request in, the response and the route that answered it out. Implemented by the
/// application, run by the FastCGI worker, called directly by tests.
public protocol HTTPResponder: AnyObject {
    /// The longest request body the responder reads: a longer one is not read (the responder answers it from
    /// the declared length).
    var bodyLimit: Int { get }

    func respond(to request: HTTPRequest) -> RoutedResponse

    /// How often the worker calls `idle`, in milliseconds; nil (the default): never.
    var idleIntervalMilliseconds: Int32? { get }

    /// Bounded work between requests: called when the worker has waited `idleIntervalMilliseconds` for a request,
    /// and at least that often while requests keep coming.
    func idle()
}

extension HTTPResponder {
    public var idleIntervalMilliseconds: Int32? { nil }
    public func idle() {}
}

/// A response and what logs and metrics name its request by.
public struct RoutedResponse {
    public var response: HTTPResponse
    /// The route template, or "unmatched".
    public var route: String

    public init(response: HTTPResponse, route: String) {
        self.response = response
        self.route = route
    }
}
