import HTTP
import Testing
@testable import UserService

/// `GET` and `PUT /api/v1/users/me` (the basic profile) through the `Application`, against the real PostgreSQL.
@Suite struct UsersMeTests {
    static let seedUpdate: JSONValue = .object([
        ("full_name", "Updated Name"), ("current_title", "Software Engineer"), ("location", "San Francisco, CA"),
    ])

    func put(_ service: TestService, _ tokens: TestService.Tokens, _ body: JSONValue) -> TestResponse {
        service.request("PUT", "/api/v1/users/me", json: body, token: tokens.access)
    }

    /// The stored row's fields, NULL as nil (never "").
    func stored(_ service: TestService, _ user: TestService.User) throws -> [String?] {
        let row = try #require(try service.database.query(
            "SELECT username, full_name, current_title, location, updated_at::text FROM users WHERE id = $1", [user.id]).first)
        return (0..<5).map { row.string($0) }
    }

    /// `updated_at` an hour in the past, so that a change shows as a move.
    func age(_ service: TestService, _ user: TestService.User) throws {
        try service.shift("users", ["updated_at"], by: 3600, where: "id = '\(user.id)'")
    }

    @Test func theSeedExampleUpdatesTheProfileWhichBothMeEndpointsShow() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let before = service.request("GET", "/api/v1/users/me", token: tokens.access)
        #expect(before.status == .ok && before.text == service.me(tokens).text)
        #expect(before.json?["current_title"] == .null && before.json?["location"] == .null && before.json?["full_name"] == "Test User")
        try age(service, user)
        let agedAt = try #require(try stored(service, user)[4])

        let response = put(service, tokens, Self.seedUpdate)
        #expect(response.status == .ok, "\(response.text)")
        let body = try #require(response.json)
        #expect(body["full_name"] == "Updated Name" && body["current_title"] == "Software Engineer"
            && body["location"] == "San Francisco, CA" && body["username"] == .string(user.username) && body["id"] == .string(user.id))
        guard case .object(let members) = body else { throw Failure("not an object: \(response.text)") }
        #expect(members.map(\.0) == ["id", "email", "username", "full_name", "current_title", "location", "is_active", "is_verified",
                                     "is_premium", "premium_plan", "premium_expires_at", "created_at", "updated_at", "last_login"])
        #expect(try stored(service, user)[4] != agedAt)
        #expect(try #require(body["updated_at"]?.string) > #require(body["created_at"]?.string))
        // Both GETs answer the updated user, byte for byte the same.
        let again = service.request("GET", "/api/v1/users/me", token: tokens.access)
        #expect(again.text == response.text && service.me(tokens).text == response.text)
    }

    @Test func onlyTheFieldsSentChangeAndNullClears() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(put(service, tokens, Self.seedUpdate).status == .ok)
        let cleared = put(service, tokens, .object([("location", .null)]))
        #expect(cleared.status == .ok)
        #expect(try stored(service, user).prefix(4) == [user.username, "Updated Name", "Software Engineer", nil])
        #expect(cleared.json?["location"] == .null && cleared.json?["current_title"] == "Software Engineer")
        // An empty string clears too: a cleared field is null, never "".
        #expect(put(service, tokens, .object([("current_title", ""), ("full_name", .null)])).json?["current_title"] == .null)
        #expect(try stored(service, user).prefix(4) == [user.username, nil, nil, nil])
        #expect(try service.count("SELECT count(*) FROM users WHERE full_name = '' OR current_title = '' OR location = ''") == 0)
        // One field set, the others left as they are.
        let one = put(service, tokens, .object([("current_title", "Staff Engineer")]))
        #expect(one.json?["current_title"] == "Staff Engineer" && one.json?["full_name"] == .null && one.json?["location"] == .null)
    }

    @Test func updatedAtMovesOnlyWhenAStoredValueChanges() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        #expect(put(service, tokens, Self.seedUpdate).status == .ok)
        try age(service, user)
        let aged = try stored(service, user)
        // Nothing sent, or the values already stored: answered, nothing moves.
        let empty = put(service, tokens, .object([]))
        #expect(empty.status == .ok && empty.json?["full_name"] == "Updated Name")
        #expect(put(service, tokens, Self.seedUpdate).status == .ok)
        #expect(put(service, tokens, .object([("username", .string(user.username))])).status == .ok)
        #expect(try stored(service, user) == aged)
        #expect(put(service, tokens, .object([("location", "Berlin")])).status == .ok)
        #expect(try stored(service, user)[4] != aged[4])
    }

    @Test func fieldsTheCallerDoesNotOwnAreRefusedByName() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let refused: [(String, JSONValue)] = [
            ("id", "00000000-0000-0000-0000-000000000000"), ("email", "other@example.com"), ("is_active", false),
            ("is_verified", true), ("is_premium", true), ("is_admin", true), ("created_at", "2020-01-01T00:00:00Z"),
            ("updated_at", "2020-01-01T00:00:00Z"), ("last_login", .null), ("hashed_password", "$2b$04$x"), ("password", "NewPass456"),
        ]
        let row = "SELECT row_to_json(u)::text FROM users u WHERE id = $1"
        let before = try service.value(row, [user.id])
        for (field, value) in refused {
            let response = put(service, tokens, .object([("full_name", "Sneaky"), (field, value)]))
            #expect(try issues(response) == ["body.\(field) extra_forbidden"], "\(field): \(response.text)")
        }
        // All at once: one problem for each, nothing stored.
        let all = try issues(put(service, tokens, .object(refused)))
        #expect(all == Set(refused.map { "body.\($0.0) extra_forbidden" }))
        #expect(try service.value(row, [user.id]) == before)
    }

    /// "loc type" of each 422 entry.
    func issues(_ response: TestResponse) throws -> Set<String> {
        try #require(response.status == .unprocessableEntity, "\(response.status.code) \(response.text)")
        return Set(try #require(response.json?["detail"]?.array).map { item in
            (item["loc"]?.array ?? []).compactMap(\.string).joined(separator: ".") + " " + (item["type"]?.string ?? "")
        })
    }

    @Test func lengthsAreBoundedInCodePointsAndTypesChecked() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        // At the bound in two-byte characters: accepted, and PostgreSQL's CHECK agrees.
        let atBound = put(service, tokens, .object([
            ("full_name", .string(String(repeating: "é", count: 200))), ("current_title", .string(String(repeating: "é", count: 100))),
            ("location", .string(String(repeating: "é", count: 100))),
        ]))
        #expect(atBound.status == .ok, "\(atBound.text)")
        #expect(try service.value("SELECT length(full_name) || ' ' || length(current_title) || ' ' || length(location) FROM users WHERE id = $1",
                                  [user.id]) == "200 100 100")
        let over = put(service, tokens, .object([
            ("full_name", .string(String(repeating: "é", count: 201))), ("current_title", .string(String(repeating: "a", count: 101))),
            ("location", .string(String(repeating: "a", count: 101))), ("username", .string(String(repeating: "a", count: 33))),
        ]))
        #expect(try issues(over) == ["body.full_name string_too_long", "body.current_title string_too_long", "body.location string_too_long",
                                     "body.username string_too_long"])
        #expect(try issues(put(service, tokens, .object([("location", 5), ("full_name", .array([]))])))
            == ["body.location string_type", "body.full_name string_type"])
        for bad in ["ab", "has space", "a@b.c", "ünï"] {
            #expect(try issues(put(service, tokens, .object([("username", .string(bad))]))) == ["body.username string_pattern_mismatch"], "\(bad)")
        }
        // A username can change but never be cleared.
        #expect(try issues(put(service, tokens, .object([("username", .null)]))) == ["body.username string_type"])
        #expect(try stored(service, user)[0] == user.username)
        // The database refuses what the API would (the same bounds), with a fixed message.
        #expect(throws: (any Error).self) {
            try service.database.query("UPDATE users SET location = repeat('a', 101) WHERE id = $1", [user.id])
        }
        #expect(throws: (any Error).self) { try service.database.query("UPDATE users SET current_title = '' WHERE id = $1", [user.id]) }
    }

    @Test func theUsernameCanChangeButStaysUniqueInAnyCase() throws {
        let service = try TestService()
        let (user, tokens) = try service.newUser()
        let other = try service.register()
        let taken = put(service, tokens, .object([("username", .string(other.username.uppercased())), ("full_name", "Kept Out")]))
        #expect(taken.status == .conflict && taken.text == #"{"detail":"Username already taken"}"#)
        #expect(try stored(service, user)[0...1] == [user.username, "Test User"])
        // Its own name in other letters is no conflict.
        let recased = put(service, tokens, .object([("username", .string(user.username.uppercased()))]))
        #expect(recased.status == .ok && recased.json?["username"] == .string(user.username.uppercased()))
        let renamed = put(service, tokens, .object([("username", "renamed_user.1")]))
        #expect(renamed.status == .ok && renamed.json?["username"] == "renamed_user.1")
        #expect(service.loginResponse("Renamed_User.1").status == .ok)
        #expect(service.loginResponse(user.username).status == .unauthorized)
        // The old name is free again.
        #expect(put(service, try service.login(other.email), .object([("username", .string(user.username))])).status == .ok)
    }

    @Test func everyMethodNeedsALiveToken() throws {
        let service = try TestService()
        for method in ["GET", "PUT", "DELETE"] {
            let missing = service.request(method, "/api/v1/users/me", json: .object([]))
            #expect(missing.status == .unauthorized && missing.text == #"{"detail":"Not authenticated"}"#, "\(method)")
            #expect(missing.header("WWW-Authenticate") == "Bearer")
        }
        let (_, tokens) = try service.newUser()
        #expect(service.request("POST", "/api/v1/auth/logout", token: tokens.access).status == .ok)
        #expect(put(service, tokens, Self.seedUpdate).status == .unauthorized)
        #expect(try service.count("SELECT count(*) FROM users WHERE location IS NOT NULL") == 0)
    }
}
