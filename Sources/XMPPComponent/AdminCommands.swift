public import XMPP

extension ComponentConnection {
    /// Runs an admin command against `server`; nil when the server could not be asked or did not
    /// answer in time (the caller answers 503 `xmpp_unavailable`).
    public func run(_ command: XEP0133.Command, on server: String) async -> XEP0133.Outcome? {
        guard let answer = try? await request(XEP0133.request(command, from: settings.domain, to: server)) else { return nil }
        return XEP0133.outcome(of: answer)
    }
}
