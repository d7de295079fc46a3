public import Loop

/// A push service for one platform (APNs, FCM, …), as Sygnal's pushkins are: one type per provider,
/// made from configuration, held by ``PushDelivery`` in a table by platform. A provider makes one
/// attempt and classifies the answer; retries, deadlines, dead tokens and counters are the
/// delivery's. Tests script one (`ScriptedProvider`); a new platform is one more conforming type.
///
/// As a ``Service`` it is started before the delivery and stopped after it has drained; ``Service/stop()``
/// closes its connections.
@LoopActor
public protocol PushProvider: Service {
    var platform: PushPlatform { get }

    /// One attempt to deliver `kind` to `target` within `timeout` seconds. `pushID` is the same for
    /// every attempt of one push (APNs echoes it as `apns-id`).
    func send(_ kind: PushKind, to target: PushTarget, pushID: String, timeout: Double) async -> ProviderOutcome

    /// Connections opened and retired so far, for `/metrics`.
    var connections: (opened: Int, retired: Int) { get }

    /// Requests at the provider now, and waiting for a stream, for `/metrics`.
    var requests: (inFlight: Int, waiting: Int) { get }
}
