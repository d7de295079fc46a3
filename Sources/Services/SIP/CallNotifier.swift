import XMPP
public import Postgres
public import Logging
public import Loop

/// The wake-up pushes of SIP calls (docs/hooks.md, docs/calls.md): a VoIP push to every iOS device's
/// PushKit token and a high-priority data push to every Android device of the callee, queued and never
/// waited on; when the call ends unanswered or is answered elsewhere, a push to the message token of
/// each device that got it.
///
/// Each call is recorded in `sip_calls` (one statement per hook), which makes a repeated
/// `incoming_call` within the ring window a no-op on any instance, remembers which devices got the
/// call so that a cancel reaches exactly those, and keeps its state for `GET /calls/{call_id}`.
@LoopActor
public final class CallNotifier: Service {
    public enum RingOutcome: Equatable, Sendable {
        /// Pushes queued now for this many devices.
        case queued(devices: Int)
        /// The same call is already ringing: nothing new was sent.
        case alreadyRinging(devices: Int)
        /// No such account, or it has no device a call push can reach.
        case unreachable
        /// Every provider queue this call needed is full.
        case busy
    }

    /// How long finished calls stay recorded (for a late cancel) before they are purged.
    static let keepSeconds = 3600

    private let domain: String
    private let ringSeconds: Int
    private let database: DatabasePool
    private let delivery: PushDelivery
    private let logger: Logger
    private var purgeTimer: LoopTimer?

    public init(domain: String, ringSeconds: Int, database: DatabasePool, delivery: PushDelivery, logger: Logger) {
        self.domain = domain
        self.ringSeconds = ringSeconds
        self.database = database
        self.delivery = delivery
        self.logger = logger
    }

    /// The callee's devices a call push can reach (`$2` is the callee's JID), and the message tokens
    /// of those that got the call being ended (`ended`): a cancel is never a VoIP push.
    private static let targets = PushRegistry.targetsQuery(jid: "$2", token: .call)
    private static let cancelTargets = PushRegistry.targetsQuery(jid: "$2", devicesIn: "SELECT unnest(device_uuids) FROM ended", token: .message)

    public func ring(_ call: SIPCall) async throws(DatabaseError) -> RingOutcome {
        let result = try await database.query("""
            WITH targets AS (
                \(Self.targets)
            ), claimed AS (
                INSERT INTO sip_calls (call_id, callee_jid, caller, caller_jid, caller_display, device_uuids, ring_until)
                SELECT $1, $2, $3, $5, $6, array_agg(device_uuid), now() + make_interval(secs => $4::double precision)
                FROM targets HAVING count(*) > 0
                ON CONFLICT (call_id) DO UPDATE SET
                    callee_jid = EXCLUDED.callee_jid, caller = EXCLUDED.caller, caller_jid = EXCLUDED.caller_jid,
                    caller_display = EXCLUDED.caller_display, device_uuids = EXCLUDED.device_uuids,
                    ring_until = EXCLUDED.ring_until, cancelled_at = NULL, end_reason = NULL, created_at = now()
                WHERE sip_calls.ring_until <= now()
                RETURNING floor(extract(epoch FROM ring_until))::bigint AS deadline
            )
            SELECT (SELECT count(*) FROM claimed) AS claimed, (SELECT deadline FROM claimed) AS deadline,
                   (SELECT cardinality(device_uuids) FROM sip_calls WHERE call_id = $1 AND ring_until > now()) AS earlier,
                   t.device_uuid, t.platform, t.token, t.app_id, t.environment
            FROM (SELECT 1) AS one LEFT JOIN targets t ON true
            """, [call.callID, jid(call.callee), call.caller, String(ringSeconds), call.callerAccount.map(jid), call.callerDisplay])
        guard result.value(0, "claimed") == "1", let deadline = result.value(0, "deadline").flatMap(Int64.init) else {
            if let earlier = result.value(0, "earlier").flatMap(Int.init) { return .alreadyRinging(devices: earlier) }
            // The same Call-ID claimed by a hook running at the same moment: its row is not in this
            // statement's snapshot (the unique index made this one wait for it), but the callee has
            // devices, so the call rings; never 404, which would end it.
            let devices = PushRegistry.targets(in: result, token: .call).count
            return devices > 0 ? .alreadyRinging(devices: devices) : .unreachable
        }
        let kind = PushKind.call(callID: call.callID, caller: call.caller, callerDisplay: call.callerDisplay, callee: call.callee,
                                 deadline: deadline)
        let queued = deliver(kind, to: PushRegistry.targets(in: result, token: .call))
        guard queued > 0 else {
            // Nothing went out: release the Call-ID so that Kamailio's next attempt can push.
            _ = try? await database.query("DELETE FROM sip_calls WHERE call_id = $1", [call.callID])
            return .busy
        }
        logger.info("call pushes queued", metadata: ["devices": "\(queued)"])
        return .queued(devices: queued)
    }

    /// Ends the call with `reason` (its state from now on) and tells the devices that got it, on
    /// their message tokens: a missed-call alert, or a background push when it was answered
    /// elsewhere; how many. A call that was never pushed, or has ended already, sends nothing.
    public func cancel(callID: String, callee: String, reason: SIPCall.CancelReason) async throws(DatabaseError) -> Int {
        let result = try await database.query("""
            WITH ended AS (
                UPDATE sip_calls SET cancelled_at = now(), end_reason = $3
                WHERE call_id = $1 AND callee_jid = $2 AND cancelled_at IS NULL
                RETURNING device_uuids, caller, caller_display
            ), targets AS (
                \(Self.cancelTargets)
            )
            SELECT e.caller, e.caller_display, t.device_uuid, t.platform, t.token, t.app_id, t.environment
            FROM ended e LEFT JOIN targets t ON true
            """, [callID, jid(callee), reason.rawValue])
        guard let caller = result.value(0, "caller") else { return 0 }
        let kind = PushKind.callCancelled(callID: callID, reason: reason, caller: caller, callerDisplay: result.value(0, "caller_display"))
        return deliver(kind, to: PushRegistry.targets(in: result, token: .message))
    }

    /// The call `callID` as `account` (a bare JID) may see it: only its caller and its callee do;
    /// nil for everyone else and for calls not recorded (or purged), alike.
    public func state(callID: String, for account: String) async throws(DatabaseError) -> CallState? {
        guard callID.utf8.count <= SIPCall.maximumCallIDBytes else { return nil }
        let row = try await database.query("""
            SELECT caller, caller_jid, callee_jid, end_reason, floor(extract(epoch FROM ring_until))::bigint AS deadline,
                   ring_until <= now() AS over
            FROM sip_calls WHERE call_id = $1 AND (callee_jid = $2 OR caller_jid = $2)
            """, [callID, account])
        guard let callee = row.value(0, "callee_jid"), let caller = row.value(0, "caller"),
              let deadline = row.value(0, "deadline").flatMap(Int64.init) else { return nil }
        return CallState(callID: callID, caller: row.value(0, "caller_jid") ?? jid(caller), callee: callee,
                         phase: CallState.Phase(endReason: row.value(0, "end_reason").flatMap(SIPCall.CancelReason.init),
                                                ringWindowOver: row.value(0, "over") == "t"),
                         deadline: deadline)
    }

    // MARK: Service: the purge of finished calls

    public var serviceName: String { "call purger" }
    public var isReady: Bool { true }
    public func stop() {
        purgeTimer?.disarm()
        purgeTimer = nil
    }

    /// Purges calls that ended over an hour ago, now and every 10 minutes.
    public func start() {
        let timer = LoopTimer { [weak self] in
            guard let self else { return }
            spawnOnLoop { await self.purge() }
        }
        purgeTimer = timer
        timer.schedule(after: 0)
    }

    private func purge() async {
        _ = try? await database.query("DELETE FROM sip_calls WHERE ring_until < now() - make_interval(secs => $1::double precision)",
                                      [String(Self.keepSeconds)])
        purgeTimer?.schedule(after: 600)
    }

    private func deliver(_ kind: PushKind, to targets: [PushTarget]) -> Int {
        var queued = 0
        for target in targets where delivery.hasRoom(for: target.platform, call: true) {
            delivery.deliver(kind, to: target, deadline: Double(ringSeconds))
            queued += 1
        }
        return queued
    }

    private func jid(_ username: String) -> String { JID(localpart: username, domain: domain).description }
}
