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

    /// Queues `jobs` trivial jobs (a 64-byte input), then lets `takers` concurrent takers take, renew and complete
    /// them all (with a 64-byte result); removes its jobs afterwards.
    package static func run(queue: SharedQueue, takers: Int, jobs: Int) async throws(StoreError) -> Run {
        let input = [UInt8](repeating: 7, count: 64)
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
                                taken.job.id, worker: name, state: "succeeded", record: record, result: input,
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
        let seconds = Double(start.duration(to: .now).components.attoseconds) / 1e18
            + Double(start.duration(to: .now).components.seconds)
        for id in ids { _ = try await queue.deleteFinished(id) }
        return Run(takers: takers, jobs: done, seconds: seconds)
    }
}
