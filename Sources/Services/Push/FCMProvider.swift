import Codecs
import Crypto
public import HTTP2Client
public import Loop

/// FCM HTTP v1 (docs/pushes.md): an OAuth2 access token from the service account (RS256 JWT-bearer
/// grant to its `token_uri`), cached until 5 minutes before it expires and fetched once however
/// many pushes wait for it; data-only `messages:send`; every answer classified.
@LoopActor
public final class FCMProvider: PushProvider {
    public let platform = PushPlatform.android
    private let client: HTTP2Client
    public var connections: (opened: Int, retired: Int) { (client.connectionsOpened, client.connectionsRetired) }
    private let account: FCMServiceAccount
    private let baseURL: String
    private let clock: LoopClock
    private var accessToken: (token: String, refreshAt: Int64)?
    private var tokenWaiters: [CheckedContinuation<String?, Never>]?

    public init(client: HTTP2Client, account: FCMServiceAccount, baseURL: String, clock: LoopClock) {
        self.client = client
        self.account = account
        self.baseURL = baseURL
        self.clock = clock
    }

    public func send(_ kind: PushKind, to target: PushTarget, pushID: String, timeout: Double) async -> ProviderOutcome {
        await CredentialRenewal.send(timeout: timeout, clock: clock) { timeout in
            let started = clock.uptime()
            guard let bearer = await token(timeout: timeout) else { return (.retry(after: nil), false) }
            let request = HTTP2Client.Request(
                url: "\(baseURL)/v1/projects/\(account.projectID)/messages:send",
                headers: [("authorization", "Bearer \(bearer)"), ("content-type", "application/json")],
                body: FCMRequest.body(kind, token: target.token, now: clock.epochSeconds()).bytes,
                timeout: timeout - (clock.uptime() - started), urgent: kind.isCall)
            guard case .success(let response) = await client.send(request) else { return (.retry(after: nil), false) }
            // The access token was revoked or expired early: forget it (unless already replaced).
            let refused = response.status == 401
            if refused, accessToken?.token == bearer { accessToken = nil }
            return (.fcm(status: response.status, body: response.json, retryAfter: response.headers["retry-after"]), refused)
        }
    }

    /// The cached access token, or one fetched now (single flight).
    private func token(timeout: Double) async -> String? {
        if let accessToken, clock.epochSeconds() < accessToken.refreshAt { return accessToken.token }
        if tokenWaiters != nil { return await withCheckedContinuation { tokenWaiters?.append($0) } }
        tokenWaiters = []
        let fetched = await fetchToken(timeout: timeout)
        let waiters = tokenWaiters ?? []
        tokenWaiters = nil
        waiters.forEach { $0.resume(returning: fetched) }
        return fetched
    }

    private func fetchToken(timeout: Double) async -> String? {
        let issuedAt = clock.epochSeconds()
        let assertion = JWS.sign(header: [], claims: FCMRequest.assertionClaims(clientEmail: account.clientEmail,
                                                                                tokenURI: account.tokenURI, now: issuedAt), with: account.key)
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
        let request = HTTP2Client.Request(url: account.tokenURI, headers: [("content-type", "application/x-www-form-urlencoded")],
                                          body: Array(form.utf8), timeout: timeout)
        guard case .success(let response) = await client.send(request), response.status == 200,
              let body = try? JSONValue.parse(response.body), let token = body["access_token"]?.stringValue,
              let lifetime = body["expires_in"]?.int64Value
        else { return nil }
        accessToken = (token, issuedAt + lifetime - 300)
        return token
    }

    // MARK: Service

    public var requests: (inFlight: Int, waiting: Int) { client.requestCounts }

    public var serviceName: String { "FCM provider" }
    public func start() {}
    /// Connections (and the access token) are made when the first push needs them.
    public var isReady: Bool { !client.isClosed }
    public func stop() { client.close() }
}
