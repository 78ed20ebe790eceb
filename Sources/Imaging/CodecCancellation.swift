import CImageShims

/// A request to stop decodes and encodes in progress, from any thread, or a deadline after which they stop by
/// themselves. The codecs check it every 16 rows (PNG and JPEG decoding and JPEG encoding), between 256 KiB chunks of
/// input (WebP decoding), at each progress report (WebP encoding), and between bands of rows and before compression
/// (PNG encoding); a stopped codec throws `ImagingError` with the code `.cancelled`.
package final class CodecCancellation: @unchecked Sendable {
    // @unchecked Sendable: the C object is only read and written through C11 atomics (CImageShims/cancel.c), and the
    // handle itself never changes.
    let handle: OpaquePointer?

    /// A request not yet made, without a deadline.
    package init() {
        handle = superres_cancel_create()
    }

    deinit {
        if let handle { superres_cancel_destroy(handle) }
    }

    /// Asks every codec using this request to stop.
    package func cancel() {
        if let handle { superres_cancel_request(handle) }
    }

    /// Makes the request count as made once `timeout` from now has passed; nil removes the deadline.
    package func setTimeout(_ timeout: Duration?) {
        guard let handle else { return }
        guard let timeout else {
            superres_cancel_set_timeout(handle, 0)
            return
        }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = max(1, seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        superres_cancel_set_timeout(handle, UInt64(nanoseconds))
    }

    /// Whether the request was made or the deadline has passed.
    package var isCancelled: Bool { superres_cancel_is_requested(handle) != 0 }
}
