public import Logging

/// Starts, drains and stops the long-lived parts from one place (as Hummingbird's `ServiceGroup`
/// does): ``start()`` starts them in the order given (dependencies first); ``stop(grace:)`` drains
/// them one by one in reverse order within one shared grace period, then stops them in reverse order.
/// Draining in reverse lets each part finish its work while everything it hands work to still runs:
/// the HTTP server's last call hooks can still queue pushes, and the pushes can still be delivered.
@LoopActor
public final class ServiceRunner {
    private var services: [any Service]
    private let clock: LoopClock
    private let logger: Logger
    private var started: [any Service] = []
    /// Set when ``stop(grace:)`` begins: `/readyz` says the process is no longer accepting work.
    public private(set) var isStopping = false

    public init(_ services: [any Service] = [], clock: LoopClock = .system, logger: Logger) {
        self.services = services
        self.clock = clock
        self.logger = logger
    }

    /// Adds parts after those given so far (before ``start()``; a composition root whose parts need
    /// the runner, e.g. a readiness check, makes the runner first).
    public func append(_ more: [any Service]) {
        precondition(started.isEmpty && !isStopping, "parts are added before the runner starts")
        services += more
    }

    /// Starts every part in order. When one cannot start, the ones already started are stopped in
    /// reverse order and the error is thrown.
    public func start() throws {
        for service in services {
            do {
                try service.start()
                started.append(service)
            } catch {
                logger.critical("cannot start", metadata: ["service": "\(service.serviceName)", "error": "\(error)"])
                for running in started.reversed() { running.stop() }
                started = []
                throw error
            }
        }
    }

    /// Whether every part is ready and no stop has begun.
    public var isReady: Bool { !isStopping && !started.isEmpty && started.allSatisfy(\.isReady) }

    /// Drains every started part in reverse order, all within `grace` seconds together, then stops
    /// them in reverse order. A second call does nothing.
    public func stop(grace: Double) async {
        guard !isStopping else { return }
        isStopping = true
        let deadline = clock.uptime() + grace
        for service in started.reversed() {
            let remaining = max(0, deadline - clock.uptime())
            logger.info("draining", metadata: ["service": "\(service.serviceName)", "seconds_left": "\(Int(remaining.rounded(.up)))"])
            await service.drain(within: remaining)
        }
        for service in started.reversed() { service.stop() }
        started = []
        logger.info("stopped")
    }
}
