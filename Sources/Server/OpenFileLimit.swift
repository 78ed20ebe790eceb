#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open files, which bounds the connections the server can hold: raised at start to what
/// `--max-connections` needs (up to the hard limit, as Go's runtime does), and the cap lowered to what fits when the
/// hard limit is smaller, so that accept() never fails with EMFILE.
enum OpenFileLimit {
    /// Descriptors kept for everything but client connections: the listener, model and data files, logs, pipes.
    static let reserve = 256

    /// The connections that fit in `limit` descriptors, at most `requested` and at least one.
    static func usableConnections(requested: Int, limit: Int) -> Int {
        max(1, min(requested, limit - reserve))
    }

    /// Raises the soft limit towards `connections + reserve` (never above the hard limit, never lowering it) and
    /// returns the connections that fit and the soft limit now in force.
    static func fit(connections: Int) -> (connections: Int, limit: Int) {
        #if canImport(Glibc)
        var limits = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return (connections, Int.max) }
        let wanted = rlim_t(clamping: connections.addingReportingOverflow(reserve).partialValue)
        if limits.rlim_cur < wanted && limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = min(wanted, limits.rlim_max)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        let soft = limits.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limits.rlim_cur)
        return (usableConnections(requested: connections, limit: soft), soft)
        #else
        return (connections, Int.max)
        #endif
    }
}
