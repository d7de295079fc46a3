import Codecs
public import HTTP2Client
public import Loop

/// APNs over HTTP/2 with token auth (CONTRACTS §4): one provider token reused for 40 minutes, the
/// host chosen by the registration's environment, every answer classified.
@LoopActor
public final class APNsProvider {
    private let client: HTTP2Client
    /// The HTTP/2 client's connection counters, for `/metrics`.
    public var connections: (opened: Int, retired: Int) { (client.connectionsOpened, client.connectionsRetired) }
    private var token: APNsProviderToken
    private let productionURL: String
    private let sandboxURL: String
    private let now: @Sendable () -> Int64

    public init(client: HTTP2Client, token: APNsProviderToken, productionURL: String, sandboxURL: String,
                now: @escaping @Sendable () -> Int64) {
        self.client = client
        self.token = token
        self.productionURL = productionURL
        self.sandboxURL = sandboxURL
        self.now = now
    }

    /// `apnsID` stays the same across retries of one push (APNs echoes it; it identifies the push).
    public func send(_ kind: PushKind, deviceToken: String, appID: String, sandbox: Bool, apnsID: String, timeout: Double) async -> ProviderOutcome {
        await CredentialRenewal.send(timeout: timeout) { timeout in
            let time = now()
            let bearer = token.token(now: time)
            let headers = [("authorization", "bearer \(bearer)"), ("apns-id", apnsID), ("content-type", "application/json")]
                + APNsRequest.headers(kind, appID: appID, now: time)
            let request = HTTP2Client.Request(url: "\(sandbox ? sandboxURL : productionURL)/3/device/\(deviceToken)", headers: headers,
                                              body: APNsRequest.payload(kind).bytes, timeout: timeout)
            guard case .success(let response) = await client.send(request) else { return (.retry(after: nil), false) }
            let body = response.json
            // Apple's clock finds the provider token too old (this host's clock disagrees): sign a new one.
            let refused = response.status == 403 && body?["reason"]?.stringValue == "ExpiredProviderToken"
            if refused { token.expire(bearer) }
            return (.apns(status: response.status, body: body, retryAfter: response.headers["retry-after"]), refused)
        }
    }
}
