/// A call as `GET /calls/{call_id}` shows it to its caller and callee (docs/calls.md).
public struct CallState: Equatable, Sendable {
    public enum Phase: String, Sendable {
        case ringing, answered, cancelled, timeout

        /// The state the hooks left, or the ring window's end when no hook said how it ended.
        init(endReason: SIPCall.CancelReason?, ringWindowOver: Bool) {
            switch endReason {
            case .cancelled: self = .cancelled
            case .answeredElsewhere: self = .answered
            case .timeout: self = .timeout
            case nil: self = ringWindowOver ? .timeout : .ringing
            }
        }
    }

    public let callID: String
    /// Bare JIDs.
    public let caller: String
    public let callee: String
    public let phase: Phase
    /// The ring window's end, unix seconds.
    public let deadline: Int64
}
