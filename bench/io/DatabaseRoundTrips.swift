// PostgreSQL round trips one at a time: through DatabasePool on the loop, beside libpq's blocking
// PQexecPrepared on a thread of its own (the plainest client), the same prepared statement, the same
// pause between statements. Started by bench/io_clients.py:
//   switchboard-io-bench pg CONNINFO STATEMENTS GAP_MICROSECONDS ROUNDS
// Prints per round and client: p50 / p99 / max of a statement's round trip and CPU per statement.
import CLibPQ
import Dispatch
import Logging
import Loop
import Services
#if canImport(Glibc)
import Glibc
#endif

private enum Setting {
    static let arguments = Arguments(usage: "pg CONNINFO STATEMENTS GAP_MICROSECONDS ROUNDS", count: 4, numbersFrom: 1)
    static let conninfo = arguments[0]
    static let statements = Int(arguments[1])!, gap = Int(arguments[2])!, rounds = Int(arguments[3])!
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

/// Each statement's round trip and whether it came back right.
private struct RoundTrips {
    private var latencies: [UInt64] = []
    private var failures = 0
    private let started = Measurement.Start()

    init() { latencies.reserveCapacity(Setting.statements) }

    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    mutating func record(sentAt sent: UInt64, correct: Bool) {
        latencies.append(Self.now - sent)
        if !correct { failures += 1 }
    }

    func finish() -> ([UInt64], Measurement) { (latencies, started.finish(count: Setting.statements, failures: failures)) }
}

@LoopActor private func runPool(_ pool: DatabasePool) async -> ([UInt64], Measurement) {
    let pause = Pause()
    var trips = RoundTrips()
    for index in 0..<Setting.statements {
        let sent = RoundTrips.now
        let echo = try? await pool.query(Setting.sql, [String(index)]).value(0, "echo")
        trips.record(sentAt: sent, correct: echo == String(index))
        if Setting.gap > 0 { await pause(microseconds: Setting.gap) }
    }
    return trips.finish()
}

private func runPlain() -> ([UInt64], Measurement) {
    let connection = PQconnectdb(Setting.conninfo)
    defer { PQfinish(connection) }
    PQclear(PQprepare(connection, "echo", Setting.sql, 1, nil))
    var trips = RoundTrips()
    for index in 0..<Setting.statements {
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
    return trips.finish()
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
            DispatchQueue.global().async { continuation.resume(returning: LoopBound(runPlain())) }
        }.value
        print(summary("plain libpq PQexecPrepared, round \(round)", plain.0, plain.1))
    }
}
