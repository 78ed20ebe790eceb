import Glibc
import Testing

@testable import Server

/// The connection cap and the process's open-file limit.
@Suite struct OpenFileLimitTests {
    @Test func theCapIsLoweredToWhatTheLimitHolds() {
        #expect(OpenFileLimit.usableConnections(requested: 16384, limit: 1024) == 1024 - OpenFileLimit.reserve)
        #expect(OpenFileLimit.usableConnections(requested: 100, limit: 1 << 20) == 100)
        #expect(OpenFileLimit.usableConnections(requested: 100, limit: 10) == 1)
    }

    @Test func theSoftLimitIsRaisedTowardsTheHardOne() {
        var before = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &before) == 0)
        let wanted = 8000
        let (connections, limit) = OpenFileLimit.fit(connections: wanted)
        var after = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &after) == 0)
        #expect(after.rlim_cur >= before.rlim_cur, "the soft limit is never lowered")
        #expect(after.rlim_cur >= min(rlim_t(wanted + OpenFileLimit.reserve), after.rlim_max))
        #expect(Int(clamping: after.rlim_cur) == limit || after.rlim_cur == rlim_t.max)
        #expect(connections == OpenFileLimit.usableConnections(requested: wanted, limit: limit))
    }
}
