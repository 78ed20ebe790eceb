import Foundation
import Logging

/// The queue alone under load: trivial jobs taken, renewed once and completed by concurrent takers, to measure
/// how many jobs a second one PostgreSQL can hand out (`superres store bench`).
package enum QueueBenchmark {
    /// One run's outcome.
    package struct Run: Sendable {
        /// Concurrent takers.
        package var takers: Int
        /// Jobs taken, renewed and completed.
        package var jobs: Int
        /// Wall-clock seconds from the first take to the last completion.
        package var seconds: Double
        /// Jobs a second.
        package var jobsPerSecond: Double { seconds > 0 ? Double(jobs) / seconds : 0 }
    }

    /// The model name the benchmark's jobs carry, which no real worker serves.
    package static let model = "superres-queue-benchmark"

    /// Queues `jobs` jobs with an input of `inputBytes`, then lets `takers` concurrent takers take, renew and
    /// complete them all with a result of `resultBytes`; removes its jobs afterwards. Only the taking is timed.
    package static func run(
        queue: SharedQueue, takers: Int, jobs: Int, inputBytes: Int = 64, resultBytes: Int = 64
    ) async throws(StoreError) -> Run {
        // Random bytes, as compressed images are: nothing for PostgreSQL to squeeze.
        var generator = SystemRandomNumberGenerator()
        let input = (0..<inputBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = (0..<resultBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let record = #"{"benchmark":true}"#
        let expires = Date().addingTimeInterval(3600)
        var ids: [String] = []
        for _ in 0..<jobs {
            let id = UUID().uuidString.lowercased()
            ids.append(id)
            _ = try await queue.submit(
                id: id, model: model, owner: nil, idempotencyKey: nil, record: record, expiresAt: expires, input: input,
                queueLimit: Int.max)
        }
        let start = ContinuousClock.now
        let done: Int
        do {
            done = try await withThrowingTaskGroup(of: Int.self) { group in
                for taker in 0..<takers {
                    group.addTask {
                        let name = "benchmark-taker-\(taker)"
                        var count = 0
                        while let taken = try await queue.take(worker: name, models: [model], leaseSeconds: 30) {
                            _ = try await queue.renew(taken.job.id, worker: name, leaseSeconds: 30)
                            _ = try await queue.complete(
                                taken.job.id, worker: name, state: "succeeded", record: record, result: result,
                                expiresAt: expires, event: "done")
                            count += 1
                        }
                        return count
                    }
                }
                var total = 0
                for try await count in group { total += count }
                return total
            }
        } catch {
            throw StoreError.wrapping(error, doing: "running the queue benchmark")
        }
        let elapsed = start.duration(to: .now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        for id in ids { _ = try await queue.deleteFinished(id) }
        return Run(takers: takers, jobs: done, seconds: seconds)
    }
}
