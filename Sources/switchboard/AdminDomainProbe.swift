#if canImport(Glibc)
import Glibc
#endif
import Logging
import Loop
import XMPPComponent

/// Each instance needs its own admin domain (docs/xmpp.md): with two connections for one domain,
/// ejabberd hands each of them half of the other's answers, and a register whose add-user answer
/// went astray could not tell what happened. So the first time the admin stream is ready, probe for
/// another connection, and refuse to run if there is one (exit 78, as for any configuration
/// problem). Until the probe passes, `/readyz` says the admin side is not ready.
@LoopActor
final class AdminDomainProbe {
    private let component: ComponentConnection
    private let clock: LoopClock
    private let logger: Logger
    private var probing = false
    /// Set once the probe showed that no other connection serves the admin domain.
    private(set) var isOwned = false

    init(component: ComponentConnection, clock: LoopClock, logger: Logger) {
        self.component = component
        self.clock = clock
        self.logger = logger
    }

    /// Probes once the stream is ready (called on every ready; probes until one probe tells).
    func streamBecameReady() {
        guard !isOwned, !probing else { return }
        probing = true
        spawnOnLoop { [self] in
            let domain = component.settings.domain
            switch await component.probeDomainOwnership() {
            case true?:
                logger.critical("another connection to ejabberd already serves the admin domain", metadata: ["domain": "\(domain)"])
                Startup.printError("switchboard: configuration has 1 problem:\n  - XMPP_COMPONENT_DOMAIN: '\(domain)' is already served by another connection to ejabberd (another Switchboard instance?). Fix: give every instance its own admin component domain, with its own ejabberd_service listener (docs/xmpp.md)")
                Glibc.exit(78)
            case false?:
                probing = false
                isOwned = true
                logger.info("admin domain served by this instance alone", metadata: ["domain": "\(domain)"])
            case nil:
                // ejabberd did not answer enough pings to tell: try again while the stream is up.
                await clock.sleep(2)
                probing = false
                if component.isReady { streamBecameReady() }
            }
        }
    }
}
