import Foundation
import Logging
import Loop
import XCTest

/// The runner with fake parts that write what happens to them into one journal.
final class ServiceRunnerTests: XCTestCase {
    @LoopActor
    final class Journal {
        var entries: [String] = []
    }

    @LoopActor
    final class FakePart: Service {
        let serviceName: String
        let journal: Journal
        var failsToStart = false
        /// Seconds of real time the drain takes (bounded by what it is given).
        var drainSeconds = 0.0
        private(set) var drainGiven: Double?
        var isReady = true

        init(_ name: String, _ journal: Journal) {
            serviceName = name
            self.journal = journal
        }

        struct CannotStart: Error {}

        func start() throws {
            if failsToStart { throw CannotStart() }
            journal.entries.append("start \(serviceName)")
        }

        func drain(within seconds: Double) async {
            drainGiven = seconds
            journal.entries.append("drain \(serviceName)")
            let wait = min(seconds, drainSeconds)
            if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        }

        func stop() { journal.entries.append("stop \(serviceName)") }
    }

    private func onTheLoop(_ body: @escaping @Sendable @LoopActor () async -> Void) {
        let done = expectation(description: "on the loop")
        spawnOnLoop {
            await body()
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
    }

    func testStartsInOrderDrainsAllThenStopsInReverse() {
        onTheLoop {
            let journal = Journal()
            let parts = ["pool", "stream", "delivery", "http"].map { FakePart($0, journal) }
            let runner = ServiceRunner(parts, logger: Logger(label: "test"))
            try? runner.start()
            XCTAssertTrue(runner.isReady)
            await runner.stop(grace: 5)
            XCTAssertEqual(journal.entries, [
                "start pool", "start stream", "start delivery", "start http",
                "drain http", "drain delivery", "drain stream", "drain pool",
                "stop http", "stop delivery", "stop stream", "stop pool",
            ])
            XCTAssertTrue(runner.isStopping)
            XCTAssertFalse(runner.isReady)
        }
    }

    func testOneGracePeriodIsSharedByAllDrains() {
        onTheLoop {
            let journal = Journal()
            let slow = FakePart("delivery", journal)
            slow.drainSeconds = 0.3
            let later = FakePart("pool", journal)
            let http = FakePart("http", journal)
            let runner = ServiceRunner([later, slow, http], logger: Logger(label: "test"))
            try? runner.start()
            await runner.stop(grace: 0.5)
            XCTAssertEqual(http.drainGiven ?? 0, 0.5, accuracy: 0.05)
            XCTAssertEqual(slow.drainGiven ?? 0, 0.5, accuracy: 0.05)
            XCTAssertEqual(later.drainGiven ?? 1, 0.2, accuracy: 0.1, "what the slow drain used is gone for the ones after it")
        }
    }

    func testAPartThatCannotStartStopsTheOnesBeforeItInReverse() {
        onTheLoop {
            let journal = Journal()
            let broken = FakePart("http", journal)
            broken.failsToStart = true
            let runner = ServiceRunner([FakePart("pool", journal), FakePart("stream", journal), broken, FakePart("never", journal)],
                                       logger: Logger(label: "test"))
            do {
                try runner.start()
                XCTFail("a part that cannot start fails the start")
            } catch {
                XCTAssertTrue(error is FakePart.CannotStart)
            }
            XCTAssertEqual(journal.entries, ["start pool", "start stream", "stop stream", "stop pool"])
        }
    }

    func testReadinessComesFromTheParts() {
        onTheLoop {
            let journal = Journal()
            let stream = FakePart("stream", journal)
            stream.isReady = false
            let runner = ServiceRunner([FakePart("pool", journal), stream], logger: Logger(label: "test"))
            XCTAssertFalse(runner.isReady, "nothing started yet")
            try? runner.start()
            XCTAssertFalse(runner.isReady, "the stream is not up")
            stream.isReady = true
            XCTAssertTrue(runner.isReady)
        }
    }

    func testASecondStopDoesNothing() {
        onTheLoop {
            let journal = Journal()
            let runner = ServiceRunner([FakePart("pool", journal)], logger: Logger(label: "test"))
            try? runner.start()
            await runner.stop(grace: 1)
            await runner.stop(grace: 1)
            XCTAssertEqual(journal.entries, ["start pool", "drain pool", "stop pool"])
        }
    }
}
