import Logging
import Synchronization
import Testing

@testable import Server

/// The text log format: one line per event, whatever a client put in a value.
@Suite struct TextLogHandlerTests {
    final class Lines: Sendable {
        let written = Mutex<[String]>([])
    }

    @Test func clientChosenValuesCannotStartALineOfTheirOwn() {
        let lines = Lines()
        var handler = TextLogHandler(label: "superres") { text in lines.written.withLock { $0.append(text) } }
        handler.logLevel = .info
        let logger = Logger(label: "superres") { _ in handler }
        let name = "cat.png\n2026-12-03T00:00:00Z error superres: forged\r\u{1B}[2J"
        logger.info("job queued", metadata: ["input": "\(name)"])
        logger.warning("upload \(name) failed")
        let written = lines.written.withLock { $0 }
        #expect(written.count == 2)
        for line in written {
            #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { !$0.isNewline }, "\(line)")
            #expect(!line.contains("\u{1B}"), "\(line)")
            #expect(line.contains("cat.png\\n2026-12-03T00:00:00Z error superres: forged\\r\\u{1b}[2J"), "\(line)")
        }
        #expect(written[0].contains(" info superres: input=cat.png\\n"), "\(written[0])")
        #expect(TextLogHandler.escaped("plain é ✓") == "plain é ✓")
    }
}
