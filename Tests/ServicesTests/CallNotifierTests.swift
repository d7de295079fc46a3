import Postgres
import Foundation
import Logging
import Loop
import Services
import SwitchboardTesting
import XCTest

/// CallNotifier's bookkeeping in `sip_calls` against a real PostgreSQL (fresh schema, migrations
/// applied). The pushes themselves go nowhere here (no provider); the integration tests follow them
/// to the fake APNs and FCM.
final class CallNotifierTests: DatabaseTestCase {
    @LoopActor
    private static func prepare(_ pool: DatabasePool) async throws {
        _ = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
        _ = try await pool.query("""
            INSERT INTO push_registrations (device_uuid, jid, platform, push_token, voip_token, app_id, node, secret) VALUES
                ('d-ios', 'bob@example.com', 'ios', '\(String(repeating: "ab", count: 32))', '\(String(repeating: "cd", count: 32))', 'com.example.phone', 'n1', 's1'),
                ('d-android', 'bob@example.com', 'android', 'fcm-token', NULL, 'com.example.phone', 'n2', 's2')
            """)
    }

    @LoopActor
    private static func notifier(_ pool: DatabasePool, queueLimit: Int) -> CallNotifier {
        let logger = Logger(label: "test")
        // No provider: the pushes are queued and dropped, which is all a ring needs here.
        let delivery = PushDelivery(providers: [], store: PushRegistry(database: pool, logger: logger), logger: logger, queueLimit: queueLimit)
        return CallNotifier(domain: "example.com", ringSeconds: 30, database: pool, delivery: delivery, logger: logger)
    }

    private static let call = try! SIPCall.validated(callID: "call-1@10.0.0.1", caller: "alice", callerDisplay: "Alice", callee: "bob").get()

    func testFullProviderQueuesAnswerBusyAndReleaseTheCallIDForTheNextAttempt() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            let full = Self.notifier(pool, queueLimit: 0)
            let outcome = try await full.ring(Self.call)
            XCTAssertEqual(outcome, .busy)
            let left = try await pool.query("SELECT count(*) AS n FROM sip_calls").value(0, "n")
            XCTAssertEqual(left, "0", "the Call-ID is released when nothing went out")

            let withRoom = Self.notifier(pool, queueLimit: 10)
            let retried = try await withRoom.ring(Self.call)
            XCTAssertEqual(retried, .queued(devices: 2), "Kamailio's next attempt pushes to both devices")
            let repeated = try await withRoom.ring(Self.call)
            XCTAssertEqual(repeated, .alreadyRinging(devices: 2))
        }
    }

    /// Kamailio may send the same call twice at once (a retransmitted INVITE on two workers): both
    /// hooks answer as the first does, never "unreachable" (a 404 would end the call).
    func testConcurrentHooksForOneCallIDAllRing() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            let notifier = Self.notifier(pool, queueLimit: 1000)
            for round in 0..<20 {
                let call = try SIPCall.validated(callID: "dup-\(round)@10.0.0.1", caller: "alice", callerDisplay: nil, callee: "bob").get()
                async let first = notifier.ring(call)
                async let second = notifier.ring(call)
                let outcomes = try await [first, second]
                XCTAssertFalse(outcomes.contains(.unreachable), "round \(round): \(outcomes)")
                XCTAssertEqual(outcomes.filter { if case .queued = $0 { return true } else { return false } }.count, 1,
                               "round \(round): one of them pushed: \(outcomes)")
            }
        }
    }

    func testPurgeRemovesOnlyCallsThatEndedOverAnHourAgo() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            _ = try await pool.query("""
                INSERT INTO sip_calls (call_id, callee_jid, caller, device_uuids, ring_until) VALUES
                    ('old', 'bob@example.com', 'alice', '{d-ios}', now() - interval '2 hours'),
                    ('recent', 'bob@example.com', 'alice', '{d-ios}', now() - interval '10 minutes'),
                    ('ringing', 'bob@example.com', 'alice', '{d-ios}', now() + interval '30 seconds')
                """)
            let notifier = Self.notifier(pool, queueLimit: 10)
            notifier.start()
            var remaining: [String?] = []
            for _ in 0..<200 {
                remaining = try await pool.query("SELECT call_id FROM sip_calls ORDER BY call_id").rows.map { $0[0] }
                if remaining.count < 3 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            XCTAssertEqual(remaining, ["recent", "ringing"])
            // A cancel for a purged call finds nothing and pushes to nobody.
            let cancelled = try await notifier.cancel(callID: "old", callee: "bob", reason: .cancelled)
            XCTAssertEqual(cancelled, 0)
        }
    }
}
