import Foundation
import PostgresNIO

/// Where the shared job store is: a PostgreSQL URL as libpq writes it, read into a client configuration.
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` connects over TCP; `postgres://USER@/DATABASE?host=/run/dir`
/// (a folder, as libpq's `host` parameter) over the Unix socket `/run/dir/.s.PGSQL.PORT`. `sslmode=require` asks
/// for TLS; the default tries TLS and falls back to plain (libpq's `prefer`), `disable` never tries.
package struct StoreLocation: Sendable, CustomStringConvertible {
    /// The client configuration the URL describes.
    package let configuration: PostgresClient.Configuration
    /// The URL without its password: safe in logs and messages.
    package let description: String

    /// Reads `text`; throws `StoreError.badLocation` saying what is wrong with it.
    package init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError(
                .badLocation, "the store \(Self.redacted(text)) is not a postgres:// URL "
                    + "(postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")
        }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw StoreError(.badLocation, "the store URL \(Self.redacted(text)) names no user (postgres://USER@HOST/DB)")
        }
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.removingPercentEncoding ?? path
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(
                .badLocation, "the store URL \(Self.redacted(text)) names no database (postgres://USER@HOST/DB)")
        }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let port = components.port ?? Int(query["port"] ?? "") ?? 5432
        guard (1...65535).contains(port) else {
            throw StoreError(.badLocation, "the store URL \(Self.redacted(text)) has port \(port), not 1 to 65535")
        }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other:
            throw StoreError(.badLocation, "the store URL's sslmode \(other) is not disable, prefer or require")
        }
        var configuration: PostgresClient.Configuration
        if let socketFolder = query["host"], socketFolder.hasPrefix("/") {
            configuration = PostgresClient.Configuration(
                unixSocketPath: socketFolder + "/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
        } else {
            guard let host = components.host, !host.isEmpty else {
                throw StoreError(
                    .badLocation,
                    "the store URL \(Self.redacted(text)) names no host (postgres://USER@HOST/DB, or ?host=/socket/dir)")
            }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 16
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        self.configuration = configuration
        description = Self.redacted(text)
    }

    /// `text` with the password of its user part replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "(a store URL)"
    }
}
