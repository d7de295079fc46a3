import Config
import HTTP2Client
import HTTPServer
import JSONAPI
import Logging
import Loop
import OperatorAPI
import PhoneAPI
import Postgres
import Services
import SIPHooks
import Telemetry
import XMPP
import XMPPComponent

/// The composition root: makes every part from the configuration, wires them together, and hands
/// the long-lived ones to one ``ServiceRunner`` in dependency order (docs/architecture.md).
@LoopActor
final class Application {
    private let configuration: Configuration
    private let logger: Logger
    private let runner: ServiceRunner
    private let server: HTTPServer
    private let internalServer: HTTPServer

    init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let clock = LoopClock.system
        let domain = configuration.xmppDomain
        let runner = ServiceRunner(clock: clock, logger: logger)
        self.runner = runner

        // Storage.
        let pool = DatabasePool(conninfo: configuration.databaseURL, logger: logger)
        // ejabberd's `users` table, read with a role limited to the SCRAM columns (the same pool when
        // the same URL is configured).
        let ejabberdPool = configuration.ejabberdDatabaseURL == configuration.databaseURL
            ? pool : DatabasePool(conninfo: configuration.ejabberdDatabaseURL, name: "ejabberd database pool", logger: logger)
        let migrator = Migrator(pool: pool, clock: clock, logger: logger)

        // XMPP: the admin component (one per instance) and the push component (shared).
        let adminComponent = ComponentConnection(settings: .init(
            host: configuration.adminComponent.host, port: configuration.adminComponent.port,
            domain: configuration.adminComponentDomain, secret: configuration.adminComponentSecret, serverDomain: domain),
            identity: .init(category: "component", type: "generic", name: "Switchboard"), logger: logger)
        let pushComponent = ComponentConnection(settings: .init(
            host: configuration.pushComponent.host, port: configuration.pushComponent.port,
            domain: configuration.pushComponentDomain, secret: configuration.pushComponentSecret, serverDomain: domain),
            identity: .init(category: "pubsub", type: "push", name: "Switchboard push"), logger: logger)
        let probe = AdminDomainProbe(component: adminComponent, clock: clock, logger: logger)
        adminComponent.onReady = { probe.streamBecameReady() }

        // Pushes: one provider per configured platform, delivery, the XEP-0357 app server.
        let providers = Self.providers(configuration, clock: clock, logger: logger)
        let registry = PushRegistry(database: pool, maximumDevicesPerAccount: configuration.maxDevicesPerAccount, logger: logger)
        let delivery = PushDelivery(providers: providers, store: registry, logger: logger, clock: clock)
        let appServer = PushAppServer(serverDomain: domain, store: registry, delivery: delivery, logger: logger)
        pushComponent.router.register(IQRouter.Payload(.set, "pubsub", namespace: XEP0357.pubsubNamespace),
                                      feature: XEP0357.namespace) { iq in await appServer.answer(iq) }

        // The domain.
        let signer = ClientTokenSigner(secret: configuration.jwtSecret)
        let versions = CredentialVersions(database: pool, now: clock.now)
        let auth = BearerAuthenticator(signer: signer, versions: versions, now: clock.unixSeconds)
        let groups = GroupService(
            domain: domain, mucDomain: configuration.mucDomain, component: configuration.adminComponentDomain,
            database: pool, ejabberdDatabase: ejabberdPool,
            limits: .init(maximumGroupsPerOwner: configuration.maxGroupsPerAccount, maximumMembers: configuration.maxGroupMembers),
            request: { iq in try? await adminComponent.request(iq) }, logger: logger)
        let ha1s = HA1Directory(realm: configuration.sipDomain, database: pool, now: clock.now)
        let accounts = AccountService(
            domain: domain, database: pool, ejabberdDatabase: ejabberdPool,
            versions: versions, ha1s: ha1s, admin: { command in await adminComponent.run(command, on: domain) },
            destroyOwnedGroups: { owner in await groups.destroyAll(ownedBy: owner) }, signer: signer, now: clock.unixSeconds, logger: logger)
        let metrics = Metrics()
        delivery.onAttempt = { platform, outcome, seconds in
            metrics.observePushAttempt(platform: platform.rawValue, outcome: outcome.name, seconds: seconds)
        }
        delivery.onEnding = { platform, ending, seconds in
            metrics.observePushEnding(platform: platform.rawValue, kind: ending.kind, outcome: ending.result.rawValue, seconds: seconds)
        }
        let calls = CallNotifier(domain: domain, ringSeconds: configuration.callRingSeconds, database: pool, delivery: delivery, logger: logger)

        // HTTP: the phone API on the public listener; Kamailio's hooks and the metrics on the
        // internal one (docs/hooks.md), so that no client of the public port can take the connections
        // SIP authentication and call wake-ups need. Health and readiness answer on both.
        let health: [HealthRoutes.Check] = [
            // Both pools: logins and registrations read ejabberd's users through the second one.
            .init(name: "database") {
                guard migrator.isReady, pool.isAvailable, ejabberdPool.isAvailable else { return false }
                return (try? await pool.query("SELECT 1")) != nil
            },
            .init(name: "xmpp_admin") { adminComponent.isReady && probe.isOwned },
            .init(name: "xmpp_push") { pushComponent.isReady },
            .init(name: "accepting") { !runner.isStopping },
        ]
        var phoneRouter = Router()
        HealthRoutes.install(on: &phoneRouter, checks: health)
        ServerRoutes.install(on: &phoneRouter, configuration: configuration, auth: auth, now: clock.unixSeconds)
        let memberLookups = RateBudget(configuration.memberLookupsPerAccount, per: 3600, now: clock.now)
        let callBudget = RateBudget(configuration.callLimitPerCaller, per: 60, now: clock.now)
        let limits = AccountRateLimits(
            loginPerUserPerMinute: configuration.loginLimitPerUser, loginPerAddressPerMinute: configuration.loginLimitPerAddress,
            registerPerAddressPerHour: configuration.registerLimitPerAddress,
            passwordChangesPerAccountPerHour: configuration.passwordLimitPerAccount, now: clock.now)
        AccountRoutes.install(on: &phoneRouter, accounts: accounts, limits: limits, auth: auth)
        GroupRoutes.install(on: &phoneRouter, groups: groups,
                            lookups: memberLookups, auth: auth)
        PushRoutes.install(on: &phoneRouter, registrations: registry, pushJID: configuration.pushComponentDomain,
                           appIDs: configuration.appIDs, auth: auth)
        CallRoutes.install(on: &phoneRouter, calls: calls, auth: auth)
        var internalRouter = Router()
        HealthRoutes.install(on: &internalRouter, checks: health)
        // The dependencies /metrics and the operator status report, by the names they report them under.
        let components = [("admin", adminComponent), ("push", pushComponent)]
        let databases = [("switchboard", pool), ("ejabberd", ejabberdPool)]
        MetricsRoutes.install(on: &internalRouter, delivery: delivery, metrics: metrics) { metrics in
            for (name, component) in components {
                metrics.set("switchboard_xmpp_component_connected", help: "Whether the component stream is authenticated (1) or not (0).",
                            labels: [("component", name)], to: component.isReady ? 1 : 0)
            }
            for (name, database) in databases {
                metrics.set("switchboard_database_available", help: "Whether the pool has a ready connection (1) or not (0).",
                            labels: [("database", name)], to: database.isAvailable ? 1 : 0)
                let states = database.connectionStates
                for (state, count) in [("ready", states.ready), ("leased", states.leased), ("down", states.down)] {
                    metrics.set("switchboard_database_connections", help: "Pool connections by state: ready, leased to a transaction, down.",
                                labels: [("database", name), ("state", state)], to: Double(count))
                }
            }
            var limiterKeys = limits.keyCounts
            limiterKeys += [("member_lookups_by_account", memberLookups.keyCount), ("calls_by_caller", callBudget.keyCount)]
            for (limiter, keys) in limiterKeys {
                metrics.set("switchboard_rate_limiter_keys", help: "Keys (addresses, accounts) a rate limiter holds a bucket for now.",
                            labels: [("limiter", limiter)], to: Double(keys))
            }
        }
        if let adminToken = configuration.adminToken {
            OperatorRoutes.install(on: &internalRouter, token: AdminToken(adminToken), registry: registry, delivery: delivery,
                                   configuration: configuration) {
                (components.map { ($0.0, $0.1.isReady) }, databases.map { ($0.0, $0.1.isAvailable) })
            }
        }
        SIPHookRoutes.install(on: &internalRouter, secret: HookSecret(configuration.hookSecret), ha1s: ha1s, calls: calls,
                              callBudget: callBudget)
        var connections = HTTPServer.Limits.fitting(fileLimit: Startup.fileLimit())
        connections.public.connectionsPerAddress = UInt32(configuration.httpConnectionsPerAddress)
        let internalServer = HTTPServer(host: configuration.hooksHTTP.host, port: configuration.hooksHTTP.port,
                                        router: internalRouter, limits: connections.internal, refusals: APIError.refusals,
                                        observe: metrics.answers(of: "internal"), logger: Self.logger(logger, listener: "internal"))
        let server = HTTPServer(host: configuration.http.host, port: configuration.http.port, router: phoneRouter,
                                limits: connections.public, refusals: APIError.refusals, observe: metrics.answers(of: "public"),
                                logger: Self.logger(logger, listener: "public"))

        // Started in this order, drained and stopped in reverse: the public listener first, then the
        // internal one (its last call hooks may still queue pushes), then the app server (publishes
        // answered `wait`), then delivery (pushes already accepted go out), the providers, the
        // streams, the pools.
        let storage: [any Service] = ejabberdPool === pool ? [pool] : [pool, ejabberdPool]
        runner.append(storage + [migrator, adminComponent, pushComponent] + providers
                      + [delivery, appServer, calls, internalServer, server])
        self.server = server
        self.internalServer = internalServer
    }

    func start() throws {
        logger.info("starting", metadata: [
            "environment": "\(configuration.environment.rawValue)",
            "database": "\(DatabaseAddress.redacted(configuration.databaseURL))",
        ])
        for warning in configuration.warnings { logger.warning("\(warning)") }
        if configuration.appIDs == nil, configuration.environment == .production {
            logger.warning("APP_IDS is unset: devices may register pushes for any app of this server's Apple team or Firebase project; list yours in APP_IDS")
        }
        try runner.start()
        logger.info("listening", metadata: ["version": "\(BuildInfo.description)", "http": "\(configuration.http.host):\(server.port)",
                                            "hooks": "\(configuration.hooksHTTP.host):\(internalServer.port)"])
    }

    /// Set by the first stop signal, before the stop's task runs.
    private(set) var stopRequested = false

    func requestStop() { stopRequested = true }

    /// docs/xmpp.md, "A stop": `/readyz` turns 503, the listener closes, requests in flight
    /// finish, publishes are answered `wait`, pushes already accepted are delivered, then the streams
    /// close cleanly; all within SHUTDOWN_GRACE_SECONDS.
    func stop() async {
        stopRequested = true
        logger.info("stopping", metadata: ["grace_seconds": "\(configuration.shutdownGraceSeconds)"])
        await runner.stop(grace: Double(configuration.shutdownGraceSeconds))
    }

    /// APNs when its key is configured, FCM when a service account is (docs/configuration.md); each with an
    /// HTTP/2 client of its own, so one provider's trouble never holds up the other's pushes.
    private static func providers(_ configuration: Configuration, clock: LoopClock, logger: Logger) -> [any PushProvider] {
        var providers: [any PushProvider] = []
        if let apns = configuration.apns {
            providers.append(APNsProvider(
                client: HTTP2Client(caFile: configuration.pushCAFile, logger: logger),
                token: APNsProviderToken(key: apns.key, keyID: apns.keyID, teamID: apns.teamID),
                productionURL: configuration.apnsURL, sandboxURL: configuration.apnsSandboxURL, clock: clock))
        }
        if let account = configuration.fcmServiceAccount {
            providers.append(FCMProvider(
                client: HTTP2Client(caFile: configuration.pushCAFile, logger: logger), account: account,
                baseURL: configuration.fcmURL, clock: clock))
        }
        return providers
    }

    /// `logger` with `listener` (`public`, `internal`) on each line, the access lines included.
    private static func logger(_ logger: Logger, listener: String) -> Logger {
        var tagged = logger
        tagged[metadataKey: "listener"] = "\(listener)"
        return tagged
    }
}
