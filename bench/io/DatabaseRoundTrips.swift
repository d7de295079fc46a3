// PostgreSQL round trips one at a time: through DatabasePool on the loop, beside libpq's blocking
// PQexecPrepared on a thread of its own (the plainest client), the same prepared statement, the same
// pause between statements. Started by bench/io_clients.py:
//   switchboard-io-bench pg CONNINFO STATEMENTS GAP_MICROSECONDS CLIENTS ROUNDS
// CLIENTS clients run at once (tasks on the loop sharing the pool; threads with a connection each).
// Prints per round and client: p50 / p99 / max of a statement's round trip and CPU per statement.
import CLibPQ
import Dispatch
import Logging
import Loop
import Postgres
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private enum Setting {
    static let arguments = Arguments(usage: "pg CONNINFO STATEMENTS GAP_MICROSECONDS CLIENTS ROUNDS", count: 5, numbersFrom: 1)
    static let conninfo = arguments[0]
    static let statements = Int(arguments[1])!, gap = Int(arguments[2])!, clients = Int(arguments[3])!, rounds = Int(arguments[4])!
    /// Each client's share of the statements.
    static var each: Int { statements / clients }
    static let sql = "SELECT $1::text AS echo"
}

private func summary(_ name: String, _ latencies: [UInt64], _ run: Measurement) -> String {
    let sorted = latencies.sorted()
    func ms(_ p: Double) -> String {
        let value = Double(sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))]) / 1e6
        return String(Int((value * 1000).rounded())) + " µs"
    }
    return "| \(name) | \(ms(0.5)) | \(ms(0.99)) | \(ms(1.0)) | \(run.cpuMicrosecondsEach) | \(run.failures) |"
}

/// Pauses on a timerfd in the loop's epoll set, so that the next statement starts from an epoll
/// wake-up, as a request arriving on a socket does (Task.sleep would go through Dispatch's timers).
@LoopActor private final class Pause {
    private var waiting: CheckedContinuation<Void, Never>?
    private lazy var timer = LoopTimer { [unowned self] in
        let continuation = self.waiting
        self.waiting = nil
        continuation?.resume()
    }

    func callAsFunction(microseconds: Int) async {
        await withCheckedContinuation { continuation in
            waiting = continuation
            timer.schedule(after: Double(microseconds) / 1e6)
        }
    }
}

/// One client's round trips and whether each came back right.
private struct RoundTrips: Sendable {
    var latencies: [UInt64] = []
    var failures = 0

    init() { latencies.reserveCapacity(Setting.each) }

    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    mutating func record(sentAt sent: UInt64, correct: Bool) {
        latencies.append(Self.now - sent)
        if !correct { failures += 1 }
    }

    /// All clients' latencies and the run's measurement.
    static func finish(_ clients: [RoundTrips], started: Measurement.Start) -> ([UInt64], Measurement) {
        let latencies = clients.flatMap(\.latencies)
        return (latencies, started.finish(count: latencies.count, failures: clients.reduce(0) { $0 + $1.failures }))
    }
}

@LoopActor private func runPoolClient(_ pool: DatabasePool) async -> RoundTrips {
    let pause = Pause()
    var trips = RoundTrips()
    for index in 0..<Setting.each {
        let sent = RoundTrips.now
        let echo = try? await pool.query(Setting.sql, [String(index)]).value(0, "echo")
        trips.record(sentAt: sent, correct: echo == String(index))
        if Setting.gap > 0 { await pause(microseconds: Setting.gap) }
    }
    return trips
}

@LoopActor private final class Finished {
    var clients: [RoundTrips] = []
}

@LoopActor private func runPool(_ pool: DatabasePool) async -> ([UInt64], Measurement) {
    let started = Measurement.Start()
    let finished = Finished()
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        for _ in 0..<Setting.clients {
            spawnOnLoop {
                finished.clients.append(await runPoolClient(pool))
                if finished.clients.count == Setting.clients { done.resume() }
            }
        }
    }
    return RoundTrips.finish(finished.clients, started: started)
}

private func runPlain() -> ([UInt64], Measurement) {
    let started = Measurement.Start()
    let clients = Mutex<[RoundTrips]>([])
    DispatchQueue.concurrentPerform(iterations: Setting.clients) { _ in
        let trips = runPlainClient()
        clients.withLock { $0.append(trips) }
    }
    return RoundTrips.finish(clients.withLock { $0 }, started: started)
}

private func runPlainClient() -> RoundTrips {
    let connection = PQconnectdb(Setting.conninfo)
    defer { PQfinish(connection) }
    PQclear(PQprepare(connection, "echo", Setting.sql, 1, nil))
    var trips = RoundTrips()
    for index in 0..<Setting.each {
        let sent = RoundTrips.now
        let value = String(index)
        let result = value.withCString { parameter -> OpaquePointer? in
            var parameters: [UnsafePointer<CChar>?] = [parameter]
            return PQexecPrepared(connection, "echo", 1, &parameters, nil, nil, 0)
        }
        let correct = PQresultStatus(result) == PGRES_TUPLES_OK && String(cString: PQgetvalue(result, 0, 0)) == value
        PQclear(result)
        trips.record(sentAt: sent, correct: correct)
        if Setting.gap > 0 { usleep(UInt32(Setting.gap)) }
    }
    return trips
}

/// Both clients, alternating, `rounds` times.
@LoopActor func benchmarkDatabaseRoundTrips() async {
    let pool = DatabasePool(conninfo: Setting.conninfo, logger: Logger(label: "bench"))
    pool.start()
    while !pool.isAvailable { try? await Task.sleep(nanoseconds: 10_000_000) }
    _ = try? await pool.query(Setting.sql, ["warm-up"])
    print("| client | p50 | p99 | max | CPU µs/statement | failures |")
    print("|---|---|---|---|---|---|")
    for round in 1...Setting.rounds {
        let (latencies, run) = await runPool(pool)
        print(summary("DatabasePool on the loop, round \(round)", latencies, run))
        let plain = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: UnsafeTransfer(runPlain())) }
        }.value
        print(summary("plain libpq PQexecPrepared, round \(round)", plain.0, plain.1))
    }
}
