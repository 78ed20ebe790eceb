import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server

/// API keys (`--api-keys-file`), job ownership and the rate limit (`--rate-limit`).
@Suite struct APIKeysFileTests {
    static let aliceToken = "alice-0123456789abcdefghijKLMN+/="
    static let bobToken = "bob-ZYXWVUTSRQPONMLKJIHGFEDCBA_98"

    @Test func readsNamesAndTokensSkippingCommentsAndBlankLines() throws {
        let keys = try APIKeys(
            text: "# keys\n\nalice \(Self.aliceToken)\r\n  bob\t\(Self.bobToken)  \n", source: "keys.txt")
        #expect(keys.keys.map(\.name) == ["alice", "bob"])
        #expect(keys.key(presented: Self.aliceToken.utf8)?.name == "alice")
        #expect(keys.key(presented: Self.bobToken.utf8)?.name == "bob")
        #expect(keys.key(presented: Self.aliceToken.dropLast().utf8) == nil)
        #expect(keys.key(presented: (Self.aliceToken + "x").utf8) == nil)
        #expect(keys.key(presented: "".utf8) == nil)
    }

    @Test(arguments: [
        ("alice", "two fields"),
        ("alice short-token", "must be 24 to 256"),
        ("al ice \(aliceToken)", "two fields"),
        ("al!ce \(aliceToken)", "the name must be"),
        ("alice \(aliceToken)\nalice \(bobToken)", "used twice"),
        ("alice \(aliceToken)\nbob \(aliceToken)", "also another key's token"),
        ("alice \(String(repeating: "é", count: 30))", "must be 24 to 256"),
        ("# only a comment\n", "has no keys"),
    ])
    func badFilesAreRefusedWithTheLineAndNeverTheToken(_ text: String, _ expected: String) {
        do {
            _ = try APIKeys(text: text, source: "keys.txt")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains(Self.aliceToken))
            #expect(!error.description.contains(Self.bobToken))
        }
    }

    @Test func aMissingFileIsAStartupError() {
        #expect(throws: ServerStartupError.self) { try APIKeys(contentsOf: "/nonexistent/keys.txt") }
    }

    @Test func constantTimeEqualityIsEquality() {
        let samples: [[UInt8]] = [[], [1], [1, 2], [1, 2, 3], [1, 2, 4], [2, 2, 3], [1, 2, 3, 1, 2, 3]]
        for a in samples {
            for b in samples { #expect(APIKeys.constantTimeEqual(a, b) == (a == b), "\(a) \(b)") }
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func aBurstOfOneMinuteThenTheAverageRate() {
        let limiter = RateLimiter(perMinute: 60)
        let start = ContinuousClock.now
        for _ in 0..<60 { #expect(limiter.take("a", now: start) == nil) }
        let wait = limiter.take("a", now: start)
        #expect(wait == .seconds(1))
        // Another caller has its own bucket.
        #expect(limiter.take("b", now: start) == nil)
        // One request a second comes back.
        #expect(limiter.take("a", now: start.advanced(by: .milliseconds(500))) != nil)
        #expect(limiter.take("a", now: start.advanced(by: .milliseconds(1001))) == nil)
        #expect(limiter.take("a", now: start.advanced(by: .milliseconds(1002))) != nil)
        // A minute later the whole burst is back.
        let later = start.advanced(by: .seconds(62))
        for _ in 0..<60 { #expect(limiter.take("a", now: later) == nil) }
        #expect(limiter.take("a", now: later) != nil)
    }

    @Test func quietCallersAreForgottenWhenTooManyAreTracked() {
        let limiter = RateLimiter(perMinute: 10, maxTracked: 100)
        let start = ContinuousClock.now
        for index in 0..<100 { #expect(limiter.take("caller-\(index)", now: start) == nil) }
        #expect(limiter.trackedCount == 100)
        // Two minutes later every bucket is full again: the next new caller makes room by dropping them.
        #expect(limiter.take("new", now: start.advanced(by: .seconds(120))) == nil)
        #expect(limiter.trackedCount == 1)
        // Callers still inside their minute are kept (their spent requests are not forgotten).
        for index in 0..<100 { _ = limiter.take("busy-\(index)", now: start.advanced(by: .seconds(120))) }
        #expect(limiter.take("another", now: start.advanced(by: .seconds(121))) == nil)
        #expect(limiter.trackedCount == 102)
    }

    @Test func theDefaultLimitIsOffOnLoopbackOnlyAndCanBeSet() {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        #expect(configuration.effectiveRateLimit == 0)
        configuration.host = "::1"
        #expect(configuration.effectiveRateLimit == 0)
        configuration.host = "0.0.0.0"
        #expect(configuration.effectiveRateLimit == ServerConfiguration.defaultRateLimit)
        configuration.rateLimitPerMinute = 0
        #expect(configuration.effectiveRateLimit == 0)
        configuration.host = "127.0.0.1"
        configuration.rateLimitPerMinute = 30
        #expect(configuration.effectiveRateLimit == 30)
    }
}

@Suite(.enabled(if: Fixtures.available, Comment(rawValue: SharedData.missingMessage)))
struct AccessControlTests {
    static let alice: HTTPFields = [.authorization: "Bearer \(APIKeysFileTests.aliceToken)"]
    static let bob: HTTPFields = [.authorization: "Bearer \(APIKeysFileTests.bobToken)"]

    static func keyedServer(rateLimit: Int? = nil) async throws -> TestServer {
        let keys = try APIKeys(
            text: "alice \(APIKeysFileTests.aliceToken)\nbob \(APIKeysFileTests.bobToken)\n", source: "keys")
        return try await TestServer.make { configuration in
            configuration.apiKeys = keys
            configuration.rateLimitPerMinute = rateLimit
        }
    }

    @Test func theAPINeedsAKeyButThePageAndProbesDoNot() async throws {
        let test = try await Self.keyedServer()
        defer { test.removeData() }
        try await test.withClient { client in
            for open in ["/", "/static/app.js", "/openapi.yaml", "/healthz", "/readyz"] {
                #expect(try await client.execute(uri: open, method: .get).status == .ok, "\(open)")
            }
            for guarded in ["/api/v1/models", "/metrics", "/api/v1/jobs/0d5c6f0e-3a55-4b39-9d4e-1c1d2e3f4a5b"] {
                let answer = try await client.execute(uri: guarded, method: .get)
                expectProblem(answer, .unauthorized)
                #expect(answer.headers[.wwwAuthenticate] == "Bearer realm=\"superres\"")
                #expect(answer.problem?.detail.contains("Authorization: Bearer") == true)
            }
            let body = MultipartBody.image(try Fixtures.cropPNG())
            expectProblem(try await client.post("/enhance", body), .unauthorized)
            let wrong = try await client.execute(
                uri: "/api/v1/models", method: .get, headers: [.authorization: "Bearer not-a-key-of-this-server-at-all"])
            expectProblem(wrong, .unauthorized)
            #expect(wrong.problem?.detail.contains("not one of this server's keys") == true)
            let basic = try await client.execute(
                uri: "/api/v1/models", method: .get, headers: [.authorization: "Basic YWxpY2U6c2VjcmV0"])
            expectProblem(basic, .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/models", method: .get, headers: Self.alice).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get, headers: Self.bob).status == .ok)
            // The web page's cookie, percent-encoded as the page writes it.
            let encoded = APIKeysFileTests.aliceToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let cookie = try await client.execute(
                uri: "/api/v1/models", method: .get, headers: [.cookie: "theme=dark; superres_api_key=\(encoded)"])
            #expect(cookie.status == .ok)
        }
    }

    /// Submits a small job as the key of `headers`; returns the answer's JSON.
    static func submit(_ client: any TestClientProtocol, as key: HTTPFields) async throws -> [String: Any] {
        let body = MultipartBody.image(try Fixtures.cropPNG())
        var headers = body.headers
        headers.append(contentsOf: key)
        let submitted = try await client.execute(uri: "/api/v1/jobs", method: .post, headers: headers, body: body.buffer)
        #expect(submitted.status == .accepted, "\(submitted.text)")
        return submitted.json ?? [:]
    }

    /// Polls the job as the key of `headers` until it has finished; returns its state.
    static func finalState(_ client: any TestClientProtocol, _ id: String, as key: HTTPFields) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            let status = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .get, headers: key)
            let state = status.json?["state"] as? String ?? ""
            if ["succeeded", "failed", "cancelled"].contains(state) { return state }
            try await Task.sleep(for: .milliseconds(20))
        }
        return "unfinished after 60 s"
    }

    @Test func eachKeySeesOnlyItsOwnJobs() async throws {
        let test = try await Self.keyedServer()
        defer { test.removeData() }
        try await test.withClient { client in
            let submitted = try await Self.submit(client, as: Self.alice)
            let id = try #require(submitted["id"] as? String)
            #expect(submitted["owner"] as? String == "alice")
            #expect(try await Self.finalState(client, id, as: Self.alice) == "succeeded")
            let result = try await client.execute(uri: "/api/v1/jobs/\(id)/result", method: .get, headers: Self.alice)
            #expect(result.status == .ok)
            for path in ["", "/result", "/events"] {
                let answer = try await client.execute(uri: "/api/v1/jobs/\(id)\(path)", method: .get, headers: Self.bob)
                expectProblem(answer, .jobNotFound)
            }
            let bobDelete = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete, headers: Self.bob)
            expectProblem(bobDelete, .jobNotFound)
            // Bob's DELETE changed nothing; Alice's works.
            let deleted = try await client.execute(uri: "/api/v1/jobs/\(id)", method: .delete, headers: Self.alice)
            #expect(deleted.status == .noContent)
        }
        // The job's folder went with it.
        let records = try FileManager.default.subpathsOfDirectory(atPath: test.dataDirectory)
        #expect(!records.contains { $0.hasSuffix("job.json") }, "the deleted job's folder remains: \(records)")
    }

    @Test func theOwnerIsKeptInTheJobRecordOnDisk() async throws {
        let test = try await Self.keyedServer()
        defer { test.removeData() }
        let id = try await test.withClient { client in
            try #require(try await Self.submit(client, as: Self.bob)["id"] as? String)
        }
        let paths = try FileManager.default.subpathsOfDirectory(atPath: test.dataDirectory)
        let recordPath = try #require(paths.first { $0.contains(id) && $0.hasSuffix("job.json") })
        let record = try JobJSON.decoder().decode(
            JobRecord.self,
            from: Data(contentsOf: URL(fileURLWithPath: test.dataDirectory + "/" + recordPath)))
        #expect(record.owner == "bob")
    }

    @Test func theRateLimitAnswers429PerKeyAndLeavesProbesAlone() async throws {
        let test = try await Self.keyedServer(rateLimit: 3)
        defer { test.removeData() }
        try await test.withClient { client in
            for _ in 0..<3 {
                #expect(try await client.execute(uri: "/api/v1/models", method: .get, headers: Self.alice).status == .ok)
            }
            let limited = try await client.execute(uri: "/api/v1/models", method: .get, headers: Self.alice)
            expectProblem(limited, .rateLimited)
            let retry = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...20).contains(retry), "Retry-After \(retry)")
            // Bob's budget is his own; probes and the page are not counted.
            #expect(try await client.execute(uri: "/api/v1/models", method: .get, headers: Self.bob).status == .ok)
            for _ in 0..<5 { #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok) }
            // Requests without a (known) key count against the client's address, so keys cannot be guessed fast.
            for _ in 0..<3 { expectProblem(try await client.execute(uri: "/metrics", method: .get), .unauthorized) }
            expectProblem(try await client.execute(uri: "/metrics", method: .get), .rateLimited)
        }
    }
}
