import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The API keys of `--api-keys-file`: who may call the API, each under a name that owns the jobs it submits.
///
/// The file has one key per line, `NAME TOKEN`; blank lines and lines starting with `#` are skipped. Names are 1–64
/// of `A-Z a-z 0-9 . _ -`; tokens are 24–256 of `A-Z a-z 0-9 - . _ ~ + / =` (a bearer token's characters). Both
/// must be unique.
package struct APIKeys: Sendable {
    /// One key.
    package struct Key: Sendable, Equatable {
        /// Who the key belongs to (logs, job ownership); never the secret.
        package let name: String
        fileprivate let token: [UInt8]
    }

    /// The keys, in file order.
    package let keys: [Key]

    /// The shortest token accepted: 24 characters of the base64 alphabet are 144 bits.
    package static let minimumTokenLength = 24

    /// Reads and checks the keys file at `path`.
    package init(contentsOf path: String) throws(ServerStartupError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerStartupError("--api-keys-file \(path) cannot be read: \(error.localizedDescription)")
        }
        try self.init(text: text, source: path)
    }

    /// Parses the text of a keys file; `source` names it in errors (which never quote a token).
    package init(text: String, source: String) throws(ServerStartupError) {
        var keys: [Key] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let place = "\(source) line \(index + 1)"
            guard fields.count == 2 else {
                throw ServerStartupError("\(place): expected NAME TOKEN (two fields), found \(fields.count)")
            }
            let name = String(fields[0])
            let token = Array(fields[1].utf8)
            guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(Self.isNameByte) else {
                throw ServerStartupError("\(place): the name must be 1 to 64 of A-Z a-z 0-9 . _ -")
            }
            guard (Self.minimumTokenLength...256).contains(token.count), token.allSatisfy(Self.isTokenByte) else {
                throw ServerStartupError(
                    "\(place): the token of \(name) must be \(Self.minimumTokenLength) to 256 of "
                        + "A-Z a-z 0-9 - . _ ~ + / = (e.g. from `openssl rand -base64 32`)")
            }
            guard !keys.contains(where: { $0.name == name }) else {
                throw ServerStartupError("\(place): the name \(name) is used twice")
            }
            guard !keys.contains(where: { Self.constantTimeEqual($0.token, token) }) else {
                throw ServerStartupError("\(place): the token of \(name) is also another key's token")
            }
            keys.append(Key(name: name, token: token))
        }
        guard !keys.isEmpty else { throw ServerStartupError("\(source) has no keys") }
        self.keys = keys
    }

    /// The key whose token is `presented`; every key is compared in full, in time independent of where they differ.
    package func key(presented: some Collection<UInt8>) -> Key? {
        let bytes = Array(presented)
        var found: Key?
        for key in keys where Self.constantTimeEqual(key.token, bytes) && found == nil {
            found = key
        }
        return found
    }

    /// The key a request presents: `Authorization: Bearer TOKEN`, else the web page's `superres_api_key` cookie.
    func key(of request: Request) -> Key? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return key(presented: parts[1].trimmingCharacters(in: .whitespaces).utf8)
        }
        for cookieLine in request.headers[values: .cookie] {
            for pair in cookieLine.split(separator: ";") {
                let nameValue = pair.split(separator: "=", maxSplits: 1)
                guard nameValue.count == 2, nameValue[0].trimmingCharacters(in: .whitespaces) == Self.cookieName
                else { continue }
                let value = nameValue[1].trimmingCharacters(in: .whitespaces)
                return key(presented: (value.removingPercentEncoding ?? value).utf8)
            }
        }
        return nil
    }

    /// The cookie the web page keeps the key in (SameSite=Strict, so other sites cannot send it).
    static let cookieName = "superres_api_key"

    /// Whether `a` and `b` are equal, looking at every byte of the longer one whatever the contents.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = a.isEmpty ? 0 : a[index % a.count]
            let y = b.isEmpty ? 0 : b[index % b.count]
            difference |= UInt(x ^ y)
        }
        return difference == 0
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        isNameByte(byte) || byte == 0x7E || byte == 0x2B || byte == 0x2F || byte == 0x3D
    }
}

/// Token buckets per caller (an API key's name, else the client's address): `perMinute` requests a minute on
/// average, bursts of up to `perMinute`.
final class RateLimiter: Sendable {
    /// Requests a minute each caller may make (and its burst).
    let perMinute: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// At most this many callers are tracked; beyond, the full buckets (callers quiet for a minute) are forgotten.
    let maxTracked: Int

    /// A limiter of `perMinute` requests a minute per caller, tracking at most `maxTracked` callers.
    init(perMinute: Int, maxTracked: Int = 100_000) {
        self.perMinute = perMinute
        self.maxTracked = maxTracked
    }

    /// Takes one request from `caller`'s bucket: nil when allowed, else how long until the next one is.
    func take(_ caller: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let capacity = Double(perMinute)
        let perSecond = capacity / 60
        return buckets.withLock { buckets -> Duration? in
            var bucket = buckets[caller] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            bucket.tokens = min(capacity, bucket.tokens + max(0, seconds) * perSecond)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[caller] = bucket
                return .milliseconds(Int64(((1 - bucket.tokens) / perSecond * 1000).rounded(.up)))
            }
            bucket.tokens -= 1
            if buckets[caller] == nil && buckets.count >= maxTracked {
                buckets = buckets.filter { _, other in
                    let idle = other.updated.duration(to: now)
                    return Double(idle.components.seconds) * perSecond + other.tokens < capacity
                }
            }
            buckets[caller] = bucket
            return nil
        }
    }

    /// Callers tracked now.
    var trackedCount: Int { buckets.withLock { $0.count } }
}

/// Asks for an API key (when keys are configured) and applies the rate limit, on the routes that do work or tell
/// about it: `/enhance`, `/api/…` and `/metrics`. The page, its files, `/openapi.yaml` and the health probes stay
/// open, so a browser can load the page and ask for a key and an orchestrator can probe without one.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    let keys: APIKeys?
    let limiter: RateLimiter?

    /// Whether `path` needs a key and counts against the rate limit.
    static func isGuarded(_ path: String) -> Bool {
        path == "/enhance" || path == "/metrics" || path == "/api" || path.hasPrefix("/api/")
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.isGuarded(request.uri.path) else { return try await next(request, context) }
        var context = context
        let key = keys.flatMap { $0.key(of: request) }
        if let limiter {
            // An unknown key counts against its address, so guessing keys is rate limited too.
            let caller = key.map { "key:\($0.name)" } ?? "address:\(Self.address(of: context.channel))"
            if let wait = limiter.take(caller) {
                let exact = Double(wait.components.seconds) + Double(wait.components.attoseconds) * 1e-18
                let seconds = max(1, Int(exact.rounded(.up)))
                throw ServiceError(
                    .rateLimited,
                    "This \(key == nil ? "client address" : "API key") has made more than \(limiter.perMinute) "
                        + "requests in the last minute. Try again in \(seconds) s.",
                    headers: [.retryAfter: "\(seconds)"]
                )
            }
        }
        if keys != nil {
            guard let key else {
                let presented =
                    request.headers[.authorization] != nil
                    || request.headers[values: .cookie].contains { $0.contains(APIKeys.cookieName + "=") }
                throw ServiceError(
                    .unauthorized,
                    presented
                        ? "The API key sent is not one of this server's keys."
                        : "This server needs an API key: send `Authorization: Bearer YOUR_KEY`.",
                    headers: [.wwwAuthenticate: "Bearer realm=\"superres\""]
                )
            }
            context.caller = key.name
            context.logger[metadataKey: "api.key"] = .string(key.name)
        }
        return try await next(request, context)
    }

    /// The client's IP address without its port ("unknown" when the channel has none).
    static func address(of channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
