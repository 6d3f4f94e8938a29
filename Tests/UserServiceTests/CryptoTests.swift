import Crypto
import Postgres
import HTTP
import Testing

@Suite struct CryptoTests {
    func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// RFC 4231 test cases 1, 2, 4 and 6 (HMAC-SHA-256).
    @Test func hmacSHA256KnownAnswers() throws {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            (Array(repeating: 0x0b, count: 20), Array("Hi There".utf8), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (bytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), Array(repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            (Array(repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for (key, data, mac) in cases {
            // A prepared key gives the same MAC, again and again.
            let prepared = try HMACKey(key)
            #expect(Hex.encode(try prepared.authenticate(data)) == mac)
            #expect(Hex.encode(try prepared.authenticate(data[...])) == mac)
        }
    }

    @Test func sha256KnownAnswer() throws {
        #expect(Hex.encode(try Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func base64URLRoundTripsAndRefusesJunk() {
        for length in 0..<40 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            let text = Base64URL.encode(data)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(Array(text.utf8)) == data)
        }
        #expect(Base64URL.encode(Array("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}".utf8)) == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9")
        for junk in ["a", "ab=", "a+b/", "abc$", "AB"] where junk != "AB" {
            #expect(Base64URL.decode(Array(junk.utf8)) == nil, "\(junk)")
        }
        #expect(Base64URL.decode(Array("AB".utf8)) == nil)  // leftover bits must be zero
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }

    @Test func bcryptHashesAndVerifies() throws {
        let hash = try Bcrypt.hash("SecurePass123", cost: 4)
        #expect(hash.hasPrefix("$2b$04$") && hash.count == 60)
        #expect(Bcrypt.verify("SecurePass123", hash: hash))
        #expect(!Bcrypt.verify("SecurePass124", hash: hash))
        #expect(try Bcrypt.hash("SecurePass123", cost: 4) != hash)  // fresh salt
        #expect(throws: Bcrypt.Failure.invalidPassword) { try Bcrypt.hash(String(repeating: "a", count: 73), cost: 4) }
        #expect(throws: Bcrypt.Failure.invalidPassword) { try Bcrypt.hash("a\u{0}b", cost: 4) }
        #expect(throws: Bcrypt.Failure.invalidCost) { try Bcrypt.hash("x", cost: 3) }
        #expect(!Bcrypt.verify("x", hash: "not a hash"))
        #expect(!Bcrypt.verify("x", hash: "$2b$04$short"))
    }

    /// Hashes made by Python's bcrypt 3.2 (`bcrypt.hashpw(b"SecurePass123", bcrypt.gensalt(4, prefix=b"2a"))`).
    @Test func bcryptVerifiesPythonHashes() {
        #expect(Bcrypt.verify("SecurePass123", hash: "$2a$04$03ZWZ4LAByAYTyyxTE15pePu.sPNg8mFniI5l4/qFPuFO0IWRVHzm"))
        #expect(Bcrypt.verify("SecurePass123", hash: "$2b$04$W16IhzStVL2Y/Rw5ZmPLO.HCVLuqOSmn2I1sXsS2BMgLMIS6J5UcO"))
        #expect(!Bcrypt.verify("securepass123", hash: "$2b$04$W16IhzStVL2Y/Rw5ZmPLO.HCVLuqOSmn2I1sXsS2BMgLMIS6J5UcO"))
    }

    /// passlib compared only the first 72 bytes: a migrated user with a longer password still logs in.
    @Test func bcryptReadsOnlySeventyTwoBytesAtLogin() throws {
        let long = String(repeating: "Ab1", count: 30)  // 90 bytes
        let hash = try Bcrypt.hash(String(long.utf8.prefix(72))!, cost: 4)
        #expect(Bcrypt.verify(long, hash: hash))
    }

    /// A multi-byte character cut at byte 72: Python's bcrypt hashed the raw 72 bytes (half a character), and
    /// so must the login, not a re-decoded string where the half became U+FFFD.
    @Test func bcryptCutsMultiByteCharactersAsBytes() throws {
        let password = String(repeating: "a", count: 71) + "é"  // 73 bytes: "é" is split by the cut
        let pythonHash = "$2b$04$RA1uC6jtGR26GiBYgus5fOFASrZ5DAQt.ekgYsoJIG7BxTJCgRcge"  // bcrypt.hashpw(pw[:72], ...)
        #expect(Bcrypt.verify(password, hash: pythonHash))
        #expect(!Bcrypt.verify(String(repeating: "a", count: 71) + "\u{FFFD}", hash: pythonHash))
        #expect(Bcrypt.phrase(password).count == 72)
        #expect(Bcrypt.verify(password, hash: try Bcrypt.hash(phrase: Bcrypt.phrase(password), cost: 4)))
    }

    @Test func bcryptReadsTheCostOfAHash() {
        #expect(Bcrypt.cost(of: "$2b$04$RA1uC6jtGR26GiBYgus5fOFASrZ5DAQt.ekgYsoJIG7BxTJCgRcge") == 4)
        #expect(Bcrypt.cost(of: "$2a$12$x") == 12)
        #expect(Bcrypt.cost(of: "not a hash") == nil)
        #expect(Bcrypt.cost(of: "$2b$x1$abc") == nil)
    }

    /// A stored hash dearer than the bound is never computed: an imported cost-31 hash would occupy a password
    /// worker for hours on each login attempt.
    @Test func costsAreBounded() throws {
        #expect(throws: Bcrypt.Failure.invalidCost) { try Bcrypt.hash("SecurePass123", cost: Bcrypt.maximumCost + 1) }
        let cheap = try Bcrypt.hash("SecurePass123", cost: 4)
        let dear = "$2b$17$" + cheap.dropFirst(7)
        #expect(Bcrypt.verify("SecurePass123", hash: cheap) && !Bcrypt.verify("SecurePass123", hash: dear))
    }
}
