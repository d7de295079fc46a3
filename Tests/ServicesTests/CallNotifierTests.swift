import Postgres
import Foundation
import Logging
import Loop
@testable import Services
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

    /// A notifier whose pushes are recorded by scripted providers that deliver everything.
    @LoopActor
    private static func recordingNotifier(_ pool: DatabasePool) -> (CallNotifier, ios: ScriptedProvider, android: ScriptedProvider) {
        let logger = Logger(label: "test")
        let ios = ScriptedProvider(.ios, [.delivered(messageID: nil)]), android = ScriptedProvider(.android, [.delivered(messageID: nil)])
        let delivery = PushDelivery(providers: [ios, android], store: PushRegistry(database: pool, logger: logger), logger: logger)
        return (CallNotifier(domain: "example.com", ringSeconds: 30, database: pool, delivery: delivery, logger: logger), ios, android)
    }

    @LoopActor
    private static func attempts(_ providers: ScriptedProvider..., count: Int) async throws -> [ScriptedProvider.Attempt] {
        for _ in 0..<500 where providers.map(\.attempts.count).reduce(0, +) < count { try await Task.sleep(for: .milliseconds(2)) }
        return providers.flatMap(\.attempts)
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

    /// iOS kills an app that gets a VoIP push and reports no new call: the cancel goes to the
    /// device's message token (a missed-call alert), the call push alone to its PushKit token.
    func testTheCallGoesToTheCallTokenAndItsCancelToTheMessageToken() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            let (notifier, ios, android) = Self.recordingNotifier(pool)
            let before = Int64(Date().timeIntervalSince1970)
            let outcome = try await notifier.ring(Self.call)
            XCTAssertEqual(outcome, .queued(devices: 2))
            let rang = try await Self.attempts(ios, android, count: 2)
            guard case .call(let callID, _, let display, _, let deadline) = rang[0].kind else { return XCTFail("\(rang)") }
            XCTAssertEqual(callID, "call-1@10.0.0.1")
            XCTAssertEqual(display, "Alice")
            XCTAssertTrue((before + 29...before + 31).contains(deadline), "the ring window's end: \(deadline)")
            XCTAssertEqual(ios.attempts[0].target.tokenKind, .voip)
            XCTAssertEqual(android.attempts[0].target.token, "fcm-token")

            let cancelled = try await notifier.cancel(callID: Self.call.callID, callee: "bob", reason: .cancelled)
            XCTAssertEqual(cancelled, 2)
            _ = try await Self.attempts(ios, android, count: 4)
            XCTAssertEqual(ios.attempts[1].kind, .callCancelled(callID: "call-1@10.0.0.1", reason: .cancelled, caller: "alice", callerDisplay: "Alice"))
            XCTAssertEqual(ios.attempts[1].target.tokenKind, .push)
            XCTAssertEqual(ios.attempts[1].target.token, String(repeating: "ab", count: 32), "the message token, never the PushKit one")
            XCTAssertEqual(android.attempts[1].target.token, "fcm-token")
            let cancelledAgain = try await notifier.cancel(callID: Self.call.callID, callee: "bob", reason: .timeout)
            XCTAssertEqual(cancelledAgain, 0, "ended once")
        }
    }

    func testADeviceWhoseMessageTokenIsDeadGetsNoCancel() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            let (notifier, ios, android) = Self.recordingNotifier(pool)
            _ = try await notifier.ring(Self.call)
            _ = try await pool.query("UPDATE push_registrations SET push_token_dead_at = now() WHERE device_uuid = 'd-ios'")
            let cancelled = try await notifier.cancel(callID: Self.call.callID, callee: "bob", reason: .cancelled)
            XCTAssertEqual(cancelled, 1)
            _ = try await Self.attempts(ios, android, count: 3)
            XCTAssertEqual(ios.attempts.count, 1, "the call push only")
        }
    }

    /// The state of docs/calls.md: the hooks set it, the ring window's end turns an unended call into
    /// `timeout`; only the caller's and the callee's accounts see it, and to anyone else a call
    /// looks like one that does not exist.
    func testTheStateFollowsTheHooksAndIsSeenByTheTwoPartiesOnly() throws {
        try withFreshSchema { pool, _ in
            try await Self.prepare(pool)
            let (notifier, _, _) = Self.recordingNotifier(pool)
            func ring(_ id: String) async throws {
                let call = try SIPCall.validated(callID: id, caller: "Alice", callerDisplay: nil, callee: "bob").get()
                let rang = try await notifier.ring(call)
                XCTAssertEqual(rang, .queued(devices: 2))
            }
            try await ring("ringing")
            let ringing = try await notifier.state(callID: "ringing", for: "bob@example.com")
            XCTAssertEqual(ringing?.phase, .ringing)
            XCTAssertEqual(ringing?.caller, "alice@example.com")
            XCTAssertEqual(ringing?.callee, "bob@example.com")
            let seenByCaller = try await notifier.state(callID: "ringing", for: "alice@example.com")
            XCTAssertEqual(seenByCaller, ringing, "the caller sees it too")
            let seenByStranger = try await notifier.state(callID: "ringing", for: "carol@example.com")
            XCTAssertNil(seenByStranger)
            let unknown = try await notifier.state(callID: "unknown", for: "bob@example.com")
            XCTAssertNil(unknown)
            let oversized = try await notifier.state(callID: String(repeating: "x", count: 600), for: "bob@example.com")
            XCTAssertNil(oversized)

            for (id, reason, phase) in [("c1", SIPCall.CancelReason.cancelled, CallState.Phase.cancelled),
                                        ("c2", .answeredElsewhere, .answered), ("c3", .timeout, .timeout)] {
                try await ring(id)
                _ = try await notifier.cancel(callID: id, callee: "bob", reason: reason)
                let ended = try await notifier.state(callID: id, for: "bob@example.com")?.phase
                XCTAssertEqual(ended, phase, id)
            }
            try await ring("unended")
            _ = try await pool.query("UPDATE sip_calls SET ring_until = now() - interval '1 second' WHERE call_id = 'unended'")
            let unended = try await notifier.state(callID: "unended", for: "bob@example.com")?.phase
            XCTAssertEqual(unended, .timeout,
                           "no hook said so, the ring window did")
        }
    }
}
