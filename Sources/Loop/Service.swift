/// A long-lived part of the process (a listener, a connection, a pool, a provider, a timer), with
/// the one lifecycle every part has: started once, readiness reported, drained, stopped once. A
/// ``ServiceRunner`` starts the parts in order and drains and stops them in reverse, so a part is
/// always stopped before what it depends on.
@LoopActor
public protocol Service: AnyObject {
    /// Its name in logs.
    var serviceName: String { get }

    /// Begins its work and returns at once (connecting happens in the background). Throws only when
    /// the part cannot run at all, e.g. its port is taken; the process then stops.
    func start() throws

    /// Whether it can do its job now: a pool with a connection up, a stream that is authenticated.
    var isReady: Bool { get }

    /// Takes nothing new and finishes what it has accepted; returns when done, or after `seconds`.
    /// Parts with nothing in flight return at once.
    func drain(within seconds: Double) async

    /// Releases every resource. Called once, after ``drain(within:)``.
    func stop()
}

extension Service {
    public func drain(within seconds: Double) async {}
}
