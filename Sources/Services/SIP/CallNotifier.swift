import XMPP
public import Postgres
public import Logging
public import Loop

/// The wake-up pushes of SIP calls (docs/hooks.md): a VoIP push to every iOS device's PushKit token
/// and a high-priority data push to every Android device of the callee, queued and never waited on.
///
/// Each call is recorded in `sip_calls` (one statement per hook), which makes a repeated
/// `incoming_call` within the ring window a no-op on any instance, and remembers which devices got
/// the call so that a cancel reaches exactly those.
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

    /// The callee's devices a call push can reach (`$2` is the callee's JID), and those of them
    /// that got the call being ended (`ended`).
    private static let targets = PushRegistry.callTargetsQuery(jid: "$2")
    private static let cancelTargets = PushRegistry.callTargetsQuery(jid: "$2", devicesIn: "SELECT unnest(device_uuids) FROM ended")

    public func ring(_ call: SIPCall) async throws(DatabaseError) -> RingOutcome {
        let result = try await database.query("""
            WITH targets AS (
                \(Self.targets)
            ), claimed AS (
                INSERT INTO sip_calls (call_id, callee_jid, caller, device_uuids, ring_until)
                SELECT $1, $2, $3, array_agg(device_uuid), now() + make_interval(secs => $4::double precision)
                FROM targets HAVING count(*) > 0
                ON CONFLICT (call_id) DO UPDATE SET
                    callee_jid = EXCLUDED.callee_jid, caller = EXCLUDED.caller, device_uuids = EXCLUDED.device_uuids,
                    ring_until = EXCLUDED.ring_until, cancelled_at = NULL, created_at = now()
                WHERE sip_calls.ring_until <= now()
                RETURNING call_id
            )
            SELECT (SELECT count(*) FROM claimed) AS claimed,
                   (SELECT cardinality(device_uuids) FROM sip_calls WHERE call_id = $1 AND ring_until > now()) AS earlier,
                   t.device_uuid, t.platform, t.token, t.app_id, t.environment
            FROM (SELECT 1) AS one LEFT JOIN targets t ON true
            """, [call.callID, jid(call.callee), call.caller, String(ringSeconds)])
        guard result.value(0, "claimed") == "1" else {
            if let earlier = result.value(0, "earlier").flatMap(Int.init) { return .alreadyRinging(devices: earlier) }
            // The same Call-ID claimed by a hook running at the same moment: its row is not in this
            // statement's snapshot (the unique index made this one wait for it), but the callee has
            // devices, so the call rings; never 404, which would end it.
            let devices = PushRegistry.callTargets(in: result).count
            return devices > 0 ? .alreadyRinging(devices: devices) : .unreachable
        }
        let kind = PushKind.call(callID: call.callID, caller: call.caller, callerDisplay: call.callerDisplay, callee: call.callee)
        let queued = deliver(kind, to: PushRegistry.callTargets(in: result))
        guard queued > 0 else {
            // Nothing went out: release the Call-ID so that Kamailio's next attempt can push.
            _ = try? await database.query("DELETE FROM sip_calls WHERE call_id = $1", [call.callID])
            return .busy
        }
        logger.info("call pushes queued", metadata: ["devices": "\(queued)"])
        return .queued(devices: queued)
    }

    /// Sends `call_cancelled` to the devices that got the call; how many. A call that was never
    /// pushed, or was cancelled already, sends nothing.
    public func cancel(callID: String, callee: String, reason: SIPCall.CancelReason) async throws(DatabaseError) -> Int {
        let result = try await database.query("""
            WITH ended AS (
                UPDATE sip_calls SET cancelled_at = now()
                WHERE call_id = $1 AND callee_jid = $2 AND cancelled_at IS NULL
                RETURNING device_uuids
            )
            \(Self.cancelTargets)
            """, [callID, jid(callee)])
        return deliver(.callCancelled(callID: callID, reason: reason.rawValue), to: PushRegistry.callTargets(in: result))
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
