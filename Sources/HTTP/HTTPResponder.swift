/// What a server runs: a request in, the response and the route that answered it out. Implemented by the
/// application, run by the FastCGI worker, called directly by tests.
public protocol HTTPResponder: AnyObject {
    /// The longest request body the responder reads: a longer one is not read (the responder answers it from
    /// the declared length).
    var bodyLimit: Int { get }

    func respond(to request: HTTPRequest) -> RoutedResponse
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
