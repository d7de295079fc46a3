import Loop

/// APNs over HTTP/2 with token auth (CONTRACTS §4): one provider token reused for 40 minutes, the
/// host chosen by the registration's environment, every answer classified.
@LoopActor
public final class APNsProvider {
    private let client: HTTP2Client
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
        let started = ContinuousClock.now
        var renewed = false
        while true {
            let time = now()
            let bearer = token.token(now: time)
            let headers = [("authorization", "bearer \(bearer)"), ("apns-id", apnsID), ("content-type", "application/json")]
                + APNsRequest.headers(kind, appID: appID, now: time)
            let base = sandbox ? sandboxURL : productionURL
            let request = HTTP2Client.Request(url: "\(base)/3/device/\(deviceToken)", headers: headers,
                                              body: APNsRequest.payload(kind).bytes, timeout: timeout - started.duration(to: .now).seconds)
            guard case .success(let response) = await client.send(request) else { return .retry(after: nil) }
            let body = response.body.isEmpty ? nil : try? JSONValue.parse(response.body)
            if response.status == 403, body?["reason"]?.stringValue == "ExpiredProviderToken" {
                // Apple's clock finds the provider token too old: sign a new one and send again at once
                // (once; refused again, it is a configuration problem: this host's clock).
                token.expire(bearer)
                if !renewed, timeout - started.duration(to: .now).seconds >= RetryLoop.minimumAttemptSeconds {
                    renewed = true
                    continue
                }
            }
            return .apns(status: response.status, body: body, retryAfter: response.headers["retry-after"])
        }
    }
}
