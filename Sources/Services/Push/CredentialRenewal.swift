import Loop

/// One push to a provider whose cached credential (the APNs provider token, the FCM access token)
/// can be refused while we still hold it: `attempt` sends with the time it is given and says whether
/// the credential was refused (having dropped it); the push is then sent once more at once with a new
/// one, if at least ``RetryLoop/minimumAttemptSeconds`` of `timeout` are left. A second refusal is the
/// provider's answer (a configuration problem).
enum CredentialRenewal {
    @LoopActor
    static func send(timeout: Double, clock: LoopClock,
                     _ attempt: (_ timeout: Double) async -> (outcome: ProviderOutcome, credentialRefused: Bool)) async -> ProviderOutcome {
        let started = clock.uptime()
        let first = await attempt(timeout)
        let remaining = timeout - (clock.uptime() - started)
        guard first.credentialRefused, remaining >= RetryLoop.minimumAttemptSeconds else { return first.outcome }
        return await attempt(remaining).outcome
    }
}
