import Codecs
public import HTTP2Client
public import Loop

/// APNs over HTTP/2 with token auth (docs/pushes.md): one provider token reused for 40 minutes, the
/// host chosen by the registration's environment, every answer classified.
@LoopActor
public final class APNsProvider: PushProvider {
    public let platform = PushPlatform.ios
    private let client: HTTP2Client
    public var connections: (opened: Int, retired: Int) { (client.connectionsOpened, client.connectionsRetired) }
    private var token: APNsProviderToken
    private let productionURL: String
    private let sandboxURL: String
    private let clock: LoopClock

    public init(client: HTTP2Client, token: APNsProviderToken, productionURL: String, sandboxURL: String, clock: LoopClock) {
        self.client = client
        self.token = token
        self.productionURL = productionURL
        self.sandboxURL = sandboxURL
        self.clock = clock
    }

    public func send(_ kind: PushKind, to target: PushTarget, pushID: String, timeout: Double) async -> ProviderOutcome {
        await CredentialRenewal.send(timeout: timeout, clock: clock) { timeout in
            let time = clock.epochSeconds()
            let bearer = token.token(now: time)
            let headers = [("authorization", "bearer \(bearer)"), ("apns-id", pushID), ("content-type", "application/json")]
                + APNsRequest.headers(kind, appID: target.appID, now: time)
            let request = HTTP2Client.Request(url: "\(target.sandbox ? sandboxURL : productionURL)/3/device/\(target.token)",
                                              headers: headers, body: APNsRequest.payload(kind).bytes, timeout: timeout,
                                              urgent: kind.isCall)
            guard case .success(let response) = await client.send(request) else { return (.retry(after: nil), false) }
            let body = response.json
            // Apple's clock finds the provider token too old (this host's clock disagrees): sign a new one.
            let refused = response.status == 403 && body?["reason"]?.stringValue == "ExpiredProviderToken"
            if refused { token.expire(bearer) }
            return (.apns(status: response.status, body: body, retryAfter: response.headers["retry-after"],
                          apnsID: response.headers["apns-id"] ?? pushID), refused)
        }
    }

    // MARK: Service

    public var requests: (inFlight: Int, waiting: Int) { client.requestCounts }

    public var serviceName: String { "APNs provider" }
    public func start() {}
    /// Connections open when the first push needs one.
    public var isReady: Bool { !client.isClosed }
    public func stop() { client.close() }
}
