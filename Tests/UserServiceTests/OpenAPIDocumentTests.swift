import HTTP
import Testing
@testable import UserService

/// The document is generated from the route table: what a route's attributes imply is in it.
@Suite struct OpenAPIDocumentTests {
    func route(_ method: HTTPMethod, _ path: String) throws -> Route {
        try #require(Routes.table.first { $0.method == method && $0.path == path })
    }

    func statuses(_ route: Route) -> Set<Int> {
        Set(OpenAPIDocument.errorResponses(route).map(\.status.code))
    }

    @Test func errorStatusesFollowFromTheAttributes() throws {
        // A bearer route with a body and its own errors.
        #expect(statuses(try route(.post, "/api/v1/auth/change-password")) == [400, 401, 413, 422, 429, 503])
        // A public route with a body, on the password workers.
        #expect(statuses(try route(.post, "/api/v1/auth/login")) == [401, 403, 413, 422, 429, 503])
        // A query, no body.
        #expect(statuses(try route(.get, "/api/v1/auth/events")) == [401, 413, 422, 429, 503])
        // Private, no database.
        #expect(statuses(try route(.get, "/metrics")) == [403, 413, 429])
        // Constant data: only a body over the limit and nginx's rate limit.
        #expect(statuses(try route(.get, "/")) == [413, 429])
    }

    @Test func declaredErrorsReplaceTheImpliedOnes() throws {
        let health = try route(.get, "/health")
        let unavailable = try #require(OpenAPIDocument.errorResponses(health).first { $0.status == .serviceUnavailable })
        #expect(unavailable.schema.name == "Unhealthy")
        #expect(OpenAPIDocument.errorResponses(health).filter { $0.status == .serviceUnavailable }.count == 1)
    }

    @Test func theServerURLIsTheMountPointEncoded() throws {
        let document = try JSONParser.parse(OpenAPIDocument.json(mountPath: "/a b\"<x>"))
        #expect(document["servers"] == .array([.object([("url", "/a%20b%22%3Cx%3E")])]))
    }

    @Test func operationIDsAreUniqueAndReadable() {
        let ids = Routes.table.map(OpenAPIDocument.operationID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.contains("post_api_v1_auth_login") && ids.contains("get_root")
                && ids.contains("delete_api_v1_auth_sessions_session_id"))
    }

    @Test func requestAndResponseSchemasComeFromTheModels() throws {
        let document = try JSONParser.parse(OpenAPIDocument.json(mountPath: ""))
        let schemas = document["components"]?["schemas"]
        #expect(schemas?["UserLogin"]?["required"] == .array(["email", "password"]))
        #expect(schemas?["UserCreate"]?["properties"]?["full_name"]?["anyOf"] != nil)  // optional: string or null
        #expect(schemas?["Token"]?["properties"]?["expires_in"]?["type"] == "integer")
        #expect(schemas?["UserResponse"]?["properties"]?["last_login"]?["anyOf"] != nil)
        let login = document["paths"]?["/api/v1/auth/login"]?["post"]
        #expect(login?["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"] == "#/components/schemas/UserLogin")
        #expect(login?["responses"]?["422"]?["content"]?["application/json"]?["schema"]?["$ref"]
                == "#/components/schemas/HTTPValidationError")
        // Examples: the seed's own request, and an answer written by the model itself.
        #expect(login?["requestBody"]?["content"]?["application/json"]?["example"]?["email"] == "user@example.com")
        #expect(login?["responses"]?["200"]?["content"]?["application/json"]?["example"]?["token_type"] == "bearer")
    }
}
