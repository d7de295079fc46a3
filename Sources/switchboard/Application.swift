import Postgres
import HTTP2Client
import XMPP
import HTTPServer
import Config
import JSONAPI
import PhoneAPI
import FoundationEssentials
import Logging
import Loop
import Services
import SIPHooks
import XMPPComponent
#if canImport(Glibc)
import Glibc
#endif

/// Wires the long-lived parts together and owns their lifecycle: start in dependency order, report
/// readiness, stop in reverse on SIGTERM.
@LoopActor
final class Application {
    private let configuration: Configuration
    private let logger: Logger
    private let pool: DatabasePool
    /// ejabberd's `users` table, read with a role limited to the SCRAM columns (the same pool when the
    /// same URL is configured).
    private let ejabberdPool: DatabasePool
    private let adminComponent: ComponentConnection
    private let pushComponent: ComponentConnection
    private var server: HTTPServer?
    private var migrated = false
    /// Set on SIGTERM: /readyz answers 503 while requests in flight finish.
    private var draining = false
    /// Set once the start-up probe showed that no other connection serves the admin domain.
    private var adminDomainOwned = false

    init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        pool = DatabasePool(conninfo: configuration.databaseURL, logger: logger)
        ejabberdPool = configuration.ejabberdDatabaseURL == configuration.databaseURL
            ? pool : DatabasePool(conninfo: configuration.ejabberdDatabaseURL, logger: logger)
        adminComponent = ComponentConnection(settings: .init(
            host: configuration.adminComponent.host, port: configuration.adminComponent.port,
            domain: configuration.adminComponentDomain, secret: configuration.adminComponentSecret,
            serverDomain: configuration.xmppDomain,
            identity: .init(category: "component", type: "generic", name: "Switchboard")), logger: logger)
        var push = ComponentConnection.Settings(
            host: configuration.pushComponent.host, port: configuration.pushComponent.port,
            domain: configuration.pushComponentDomain, secret: configuration.pushComponentSecret,
            serverDomain: configuration.xmppDomain,
            identity: .init(category: "pubsub", type: "push", name: "Switchboard push"))
        push.features = ["urn:xmpp:push:0"]
        pushComponent = ComponentConnection(settings: push, logger: logger)
    }

    func start() throws {
        logger.info("starting", metadata: [
            "environment": "\(configuration.environment.rawValue)",
            "database": "\(DatabaseAddress.redacted(configuration.databaseURL))",
        ])
        pool.start()
        if ejabberdPool !== pool { ejabberdPool.start() }
        spawnOnLoop { [self] in await migrateWhenDatabaseIsUp() }
        adminComponent.onReady = { [weak self] in self?.checkAdminDomainOnce() }
        adminComponent.start()
        pushComponent.start()

        let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
        let signer = ClientTokenSigner(secret: configuration.jwtSecret)
        let versions = CredentialVersions(database: pool, now: { Date().timeIntervalSince1970 })
        let auth = BearerAuthenticator(signer: signer, versions: versions, now: now)
        let admin = adminComponent, domain = configuration.xmppDomain
        let groups = GroupService(
            domain: domain, mucDomain: configuration.mucDomain, component: configuration.adminComponentDomain,
            database: pool, ejabberdDatabase: ejabberdPool, request: { iq in try? await admin.request(iq) }, logger: logger)
        let ha1s = HA1Directory(realm: configuration.sipDomain, database: pool, now: { Date().timeIntervalSince1970 })
        let accounts = AccountService(
            domain: domain, database: pool, ejabberdDatabase: ejabberdPool,
            versions: versions, ha1s: ha1s, admin: { command in await admin.run(command, on: domain) },
            destroyOwnedGroups: { owner in await groups.destroyAll(ownedBy: owner) }, signer: signer, now: now, logger: logger)
        var router = Router()
        let pool = self.pool
        HealthRoutes.install(on: &router, checks: [
            .init(name: "database") { [weak self] in
                guard let self, self.migrated, pool.isAvailable else { return false }
                return (try? await pool.query("SELECT 1")) != nil
            },
            .init(name: "xmpp_admin") { [weak self, adminComponent] in adminComponent.isReady && self?.adminDomainOwned == true },
            .init(name: "xmpp_push") { [pushComponent] in pushComponent.isReady },
            .init(name: "accepting") { [weak self] in self.map { !$0.draining } ?? false },
        ])
        ServerRoutes.install(on: &router, configuration: configuration, auth: auth, now: now)
        let limits = AccountRateLimits(
            loginPerUserPerMinute: configuration.loginLimitPerUser, loginPerAddressPerMinute: configuration.loginLimitPerAddress,
            registerPerAddressPerHour: configuration.registerLimitPerAddress,
            passwordChangesPerAccountPerHour: configuration.passwordLimitPerAccount, now: { Date().timeIntervalSince1970 })
        AccountRoutes.install(on: &router, accounts: accounts, limits: limits, auth: auth)
        GroupRoutes.install(on: &router, groups: groups, auth: auth)
        let registrations = PushRegistrations(database: pool, logger: logger)
        PushRoutes.install(on: &router, registrations: registrations, pushJID: configuration.pushComponentDomain, auth: auth)
        let delivery = PushDelivery(apns: makeAPNsProvider(now: now), fcm: makeFCMProvider(now: now),
                                    ringSeconds: configuration.callRingSeconds, database: pool, logger: logger)
        MetricsRoutes.install(on: &router, delivery: delivery)
        let calls = CallNotifier(domain: domain, ringSeconds: configuration.callRingSeconds, database: pool, delivery: delivery, logger: logger)
        calls.startPurging()
        SIPHookRoutes.install(on: &router, secret: HookSecret(configuration.hookSecret), ha1s: ha1s, calls: calls)
        // The XEP-0357 app server: answer every publish before any provider is involved, then deliver.
        pushComponent.requestHandler = { iq in
            guard let publish = XEP0357.publish(in: iq) else { return nil }
            // Only the user's server publishes (CONTRACTS §3); a client that knows its own node and
            // secret must not be able to make us push.
            guard publish.from == domain else { return XEP0357.reply(to: iq, .forbidden) }
            let (answer, target) = await registrations.answer(publish)
            guard answer == .accepted, let target else { return XEP0357.reply(to: iq, answer) }
            guard delivery.hasRoom(for: target.platform) else { return XEP0357.reply(to: iq, .tryLater) }
            delivery.deliver(PushRegistrations.messageKind(for: publish), to: target, deadline: 60)
            return XEP0357.reply(to: iq, .accepted)
        }

        let server = HTTPServer(router: router, refusals: APIError.refusals, logger: logger)
        try server.start(host: configuration.http.host, port: configuration.http.port)
        self.server = server
        logger.info("listening", metadata: ["http": "\(configuration.http.host):\(server.port)"])
    }

    /// APNs when its key is configured (CONTRACTS §6), through the shared HTTP/2 client.
    private func makeAPNsProvider(now: @escaping @Sendable () -> Int64) -> APNsProvider? {
        guard let apns = configuration.apns else { return nil }
        let key = apns.key
        let client = HTTP2Client(caFile: configuration.pushCAFile, logger: logger)
        return APNsProvider(client: client, token: APNsProviderToken(key: key, keyID: apns.keyID, teamID: apns.teamID),
                            productionURL: configuration.apnsURL, sandboxURL: configuration.apnsSandboxURL, now: now)
    }

    /// FCM when a service account is configured, with its own HTTP/2 client (isolated from APNs).
    private func makeFCMProvider(now: @escaping @Sendable () -> Int64) -> FCMProvider? {
        guard let account = configuration.fcmServiceAccount else { return nil }
        return FCMProvider(client: HTTP2Client(caFile: configuration.pushCAFile, logger: logger), account: account, baseURL: configuration.fcmURL, now: now)
    }

    /// Seconds a stop waits for requests in flight (a call hook blocks a Kamailio worker meanwhile).
    static let drainSeconds = 5.0

    func stop() async {
        logger.info("stopping: refusing new connections, finishing requests in flight")
        draining = true
        await server?.drain(within: Self.drainSeconds)
        logger.info("stopping")
        server?.stop()
        adminComponent.stop()
        pushComponent.stop()
        pool.close()
        if ejabberdPool !== pool { ejabberdPool.close() }
    }

    /// Each instance needs its own admin domain (CONTRACTS §3): with two connections for one domain,
    /// ejabberd hands each of them half of the other's answers, and a register whose add-user answer
    /// went astray could not tell what happened. So the first time the admin stream is ready, probe
    /// for another connection, and refuse to run if there is one (exit 78, as for any configuration
    /// problem). Until the probe passes, /readyz says the admin side is not ready.
    private func checkAdminDomainOnce() {
        guard !adminDomainOwned, !probingAdminDomain else { return }
        probingAdminDomain = true
        spawnOnLoop { [self] in
            switch await adminComponent.probeDomainOwnership() {
            case true?:
                let domain = configuration.adminComponentDomain
                logger.critical("another connection to ejabberd already serves the admin domain", metadata: ["domain": "\(domain)"])
                Startup.printError("switchboard: configuration has 1 problem:\n  - XMPP_COMPONENT_DOMAIN: '\(domain)' is already served by another connection to ejabberd (another Switchboard instance?). Fix: give every instance its own admin component domain, with its own ejabberd_service listener (docs/xmpp.md)")
                Glibc.exit(78)
            case false?:
                probingAdminDomain = false
                adminDomainOwned = true
                logger.info("admin domain served by this instance alone", metadata: ["domain": "\(configuration.adminComponentDomain)"])
            case nil:
                // ejabberd did not answer enough pings to tell: try again while the stream is up.
                try? await Task.sleep(for: .seconds(2))
                probingAdminDomain = false
                if adminComponent.isReady { checkAdminDomainOnce() }
            }
        }
    }

    private var probingAdminDomain = false

    /// Applies migrations as soon as the database accepts connections, retrying until it does.
    private func migrateWhenDatabaseIsUp() async {
        var failures = 0
        while !migrated {
            if pool.isAvailable {
                do {
                    let applied = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
                    migrated = true
                    logger.info("migrations up to date", metadata: ["applied": "\(applied)"])
                    return
                } catch {
                    if failures % 50 == 0 { logger.error("migrations failed; retrying", metadata: ["error": "\(error)"]) }
                    failures += 1
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
