import Codecs
import Crypto
import XMPP
import Foundation
@testable import Services
import SwitchboardTesting
import XCTest

final class PushPayloadTests: XCTestCase {
    func testMessagePushCarriesNoText() {
        let kind = PushKind.message(sender: "bob@example.com", conversation: "bob@example.com")
        XCTAssertEqual(APNsRequest.payload(kind).text,
                       #"{"aps":{"alert":{"loc-key":"NEW_MESSAGE"},"sound":"default","mutable-content":1},"type":"message","sender":"bob@example.com"}"#)
        XCTAssertEqual(APNsRequest.payload(.message(sender: nil, conversation: nil)).text,
                       #"{"aps":{"alert":{"loc-key":"NEW_MESSAGE"},"sound":"default","mutable-content":1},"type":"message"}"#)
        let headers = Dictionary(uniqueKeysWithValues: APNsRequest.headers(kind, appID: "com.example.chat", now: 1000))
        XCTAssertEqual(headers, ["apns-push-type": "alert", "apns-topic": "com.example.chat", "apns-priority": "10",
                                 "apns-expiration": "87400", "apns-collapse-id": "bob@example.com"])
    }

    func testAPublishWithASenderNamesItsBareJIDAsSenderAndConversation() {
        func kind(_ sender: String?) -> PushKind {
            PushAppServer.messageKind(for: XEP0357.Publish(node: "n", secret: "s", sender: sender, from: "example.com"))
        }
        XCTAssertEqual(kind("bob@example.com/7568788421170312341315"), .message(sender: "bob@example.com", conversation: "bob@example.com"))
        XCTAssertEqual(kind("team@conference.example.com/alice"),
                       .message(sender: "team@conference.example.com", conversation: "team@conference.example.com"), "a group: the room")
        XCTAssertEqual(kind("bob@example.com"), .message(sender: "bob@example.com", conversation: "bob@example.com"))
        for nothing in [nil, "", "/resource-only"] {
            XCTAssertEqual(kind(nothing), .message(sender: nil, conversation: nil), nothing ?? "nil")
        }
    }

    func testLongConversationKeysAreHashedToAValidCollapseID() {
        let long = String(repeating: "r", count: 60) + "@conference.example.com"
        let headers = Dictionary(uniqueKeysWithValues: APNsRequest.headers(.message(sender: nil, conversation: long), appID: "a.b", now: 0))
        XCTAssertEqual(headers["apns-collapse-id"]?.utf8.count, 32)
    }

    func testACallIsAVoIPPushKeptUntilItsRingWindowEnds() {
        let call = PushKind.call(callID: "c1@host", caller: "alice", callerDisplay: "Alice", callee: "bob", deadline: 1_800_000_030)
        XCTAssertEqual(APNsRequest.payload(call).text,
                       #"{"type":"call","call_id":"c1@host","caller":"alice","caller_display":"Alice","callee":"bob","deadline":1800000030}"#)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: APNsRequest.headers(call, appID: "com.example.chat", now: 1_800_000_000)),
                       ["apns-push-type": "voip", "apns-topic": "com.example.chat.voip", "apns-priority": "10",
                        "apns-expiration": "1800000030"], "kept by APNs until the deadline, never 0 (tried once, stored nowhere)")
    }

    func testAnUnansweredCallEndsWithAMissedCallAlertNeverAVoIPPush() {
        for reason in [SIPCall.CancelReason.cancelled, .timeout] {
            let cancel = PushKind.callCancelled(callID: "c1@host", reason: reason, caller: "alice", callerDisplay: "Alice")
            XCTAssertEqual(APNsRequest.payload(cancel).text,
                           #"{"aps":{"alert":{"loc-key":"MISSED_CALL","loc-args":["Alice"]},"sound":"default","thread-id":"calls"},"type":"call_cancelled","call_id":"c1@host","reason":"\#(reason.rawValue)","caller":"alice","caller_display":"Alice"}"#)
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: APNsRequest.headers(cancel, appID: "com.example.chat", now: 1000)),
                           ["apns-push-type": "alert", "apns-topic": "com.example.chat", "apns-priority": "10",
                            "apns-expiration": "87400", "apns-collapse-id": "c1@host"])
        }
        let noDisplay = PushKind.callCancelled(callID: "c2", reason: .timeout, caller: "alice", callerDisplay: nil)
        XCTAssertTrue(APNsRequest.payload(noDisplay).text.contains(#""loc-args":["alice"]"#), "the caller's name when it sent no display name")
    }

    func testACallAnsweredElsewhereIsABackgroundPushAtPriorityFive() {
        let answered = PushKind.callCancelled(callID: "c1@host", reason: .answeredElsewhere, caller: "alice", callerDisplay: nil)
        XCTAssertEqual(APNsRequest.payload(answered).text,
                       #"{"aps":{"content-available":1},"type":"call_cancelled","call_id":"c1@host","reason":"answered_elsewhere","caller":"alice","caller_display":"alice"}"#)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: APNsRequest.headers(answered, appID: "com.example.chat", now: 1000)),
                       ["apns-push-type": "background", "apns-topic": "com.example.chat", "apns-priority": "5",
                        "apns-expiration": "4600", "apns-collapse-id": "c1@host"])
    }

    func testALongCallIDIsHashedToAValidCollapseID() {
        let long = String(repeating: "x", count: 100) + "@host"
        let headers = Dictionary(uniqueKeysWithValues: APNsRequest.headers(.callCancelled(callID: long, reason: .cancelled, caller: "a", callerDisplay: nil),
                                                                          appID: "a.b", now: 0))
        XCTAssertEqual(headers["apns-collapse-id"]?.utf8.count, 32)
    }

    func testFCMBodiesAreDataOnlyWithStringValues() {
        let call = PushKind.call(callID: "c1", caller: "alice", callerDisplay: nil, callee: "bob", deadline: 1030)
        XCTAssertEqual(FCMRequest.body(call, token: "tok", now: 1002).text,
                       #"{"message":{"token":"tok","data":{"type":"call","call_id":"c1","caller":"alice","caller_display":"alice","callee":"bob","deadline":"1030"},"android":{"priority":"high","ttl":"28s"}}}"#,
                       "a call lives for what is left of its ring window")
        XCTAssertTrue(FCMRequest.body(call, token: "tok", now: 1100).text.contains(#""ttl":"1s""#), "never 0s, which FCM reads as 'now or never'")
        XCTAssertEqual(FCMRequest.body(.callCancelled(callID: "c1", reason: .cancelled, caller: "alice", callerDisplay: "Alice"), token: "tok", now: 0).text,
                       #"{"message":{"token":"tok","data":{"type":"call_cancelled","call_id":"c1","reason":"cancelled","caller":"alice","caller_display":"Alice"},"android":{"priority":"high","ttl":"3600s","collapse_key":"c1"}}}"#)
        XCTAssertEqual(FCMRequest.body(.message(sender: nil, conversation: nil), token: "tok", now: 0).text,
                       #"{"message":{"token":"tok","data":{"type":"message"},"android":{"priority":"high","ttl":"86400s"}}}"#)
        XCTAssertEqual(FCMRequest.body(.message(sender: "bob@example.com", conversation: "bob@example.com"), token: "tok", now: 0).text,
                       #"{"message":{"token":"tok","data":{"type":"message","sender":"bob@example.com"},"android":{"priority":"high","ttl":"86400s","collapse_key":"bob@example.com"}}}"#,
                       "one notification per conversation, as apns-collapse-id")
        XCTAssertEqual(FCMRequest.assertionClaims(clientEmail: "sa@p.iam.gserviceaccount.com", tokenURI: "https://oauth2.googleapis.com/token", now: 100).text,
                       #"{"iss":"sa@p.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/firebase.messaging","aud":"https://oauth2.googleapis.com/token","iat":100,"exp":3700}"#)
    }

    private func json(_ text: String) -> JSONValue { try! JSONValue.parse(Array(text.utf8)) }

    func testAPNsClassificationTable() {
        let table: [(Int, String?, String?, ProviderOutcome)] = [
            (200, nil, nil, .delivered(messageID: "apns-id-1")),
            (410, #"{"reason":"Unregistered","timestamp":1700000000000}"#, nil, .tokenDead(since: 1_700_000_000_000, reason: "Unregistered")),
            (400, #"{"reason":"BadDeviceToken"}"#, nil, .tokenDead(since: nil, reason: "BadDeviceToken")),
            (400, #"{"reason":"DeviceTokenNotForTopic"}"#, nil, .tokenDead(since: nil, reason: "DeviceTokenNotForTopic")),
            (400, #"{"reason":"PayloadTooLarge"}"#, nil, .rejected("PayloadTooLarge")),
            (403, #"{"reason":"ExpiredProviderToken"}"#, nil, .configuration("ExpiredProviderToken")),
            (403, #"{"reason":"InvalidProviderToken"}"#, nil, .configuration("InvalidProviderToken")),
            (400, #"{"reason":"TopicDisallowed"}"#, nil, .configuration("TopicDisallowed")),
            (429, #"{"reason":"TooManyProviderTokenUpdates"}"#, nil, .retry(after: nil)),
            (429, #"{"reason":"TooManyRequests"}"#, "7", .retry(after: 7)),
            (500, #"{"reason":"InternalServerError"}"#, nil, .retry(after: nil)),
            (503, #"{"reason":"ServiceUnavailable"}"#, "2", .retry(after: 2)),
        ]
        for (status, body, retryAfter, expected) in table {
            XCTAssertEqual(ProviderOutcome.apns(status: status, body: body.map(json), retryAfter: retryAfter, apnsID: "apns-id-1"), expected, "\(status) \(body ?? "")")
        }
    }

    func testFCMClassificationTable() {
        func error(_ status: String, _ code: String?) -> String {
            let details = code.map { #","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"\#($0)"}]"# } ?? ""
            return #"{"error":{"code":0,"message":"m","status":"\#(status)"\#(details)}}"#
        }
        let table: [(Int, String?, String?, ProviderOutcome)] = [
            (200, #"{"name":"projects/p/messages/1"}"#, nil, .delivered(messageID: "projects/p/messages/1")),
            (404, error("NOT_FOUND", "UNREGISTERED"), nil, .tokenDead(since: nil, reason: "UNREGISTERED")),
            (403, error("PERMISSION_DENIED", "SENDER_ID_MISMATCH"), nil, .tokenDead(since: nil, reason: "SENDER_ID_MISMATCH")),
            (429, error("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), "60", .retry(after: 60)),
            (503, error("UNAVAILABLE", "UNAVAILABLE"), nil, .retry(after: nil)),
            (500, error("INTERNAL", "INTERNAL"), nil, .retry(after: nil)),
            (401, error("UNAUTHENTICATED", nil), nil, .configuration("UNAUTHENTICATED")),
            (401, error("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), nil, .configuration("THIRD_PARTY_AUTH_ERROR")),
            (400, error("INVALID_ARGUMENT", "INVALID_ARGUMENT"), nil, .rejected("INVALID_ARGUMENT")),
            (502, nil, nil, .retry(after: nil)),
        ]
        for (status, body, retryAfter, expected) in table {
            XCTAssertEqual(ProviderOutcome.fcm(status: status, body: body.map(json), retryAfter: retryAfter), expected, "\(status) \(body ?? "")")
        }
    }

    func testProviderTokenIsReusedThenRenewed() throws {
        let pem = try TestSupport.python("""
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            print(ec.generate_private_key(ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
            """).output
        var provider = APNsProviderToken(key: try SigningKey(pem: pem, algorithm: .es256), keyID: "ABC123DEFG", teamID: "DEF123ABCG")
        let first = provider.token(now: 1000)
        XCTAssertEqual(provider.token(now: 1000 + 39 * 60), first, "reused for 40 minutes")
        let second = provider.token(now: 1000 + 40 * 60)
        XCTAssertNotEqual(second, first, "renewed after 40 minutes, well before Apple's 60")
        XCTAssertEqual(provider.token(now: 1000 + 41 * 60), second)

        // ExpiredProviderToken: the token in use is dropped once; a stale copy expiring changes nothing.
        provider.expire(first)
        XCTAssertEqual(provider.token(now: 1000 + 42 * 60), second, "expiring a replaced token keeps the current one")
        provider.expire(second)
        let third = provider.token(now: 1000 + 42 * 60)
        XCTAssertNotEqual(third, second, "signed anew at once")
        XCTAssertEqual(provider.token(now: 1000 + 43 * 60), third, "and reused from then on")
    }
}

final class RetryPolicyTests: XCTestCase {
    func testRetryAfterTakesSecondsOrAnHTTPDate() {
        let now = 1_784_000_000.0  // 2026-07-14T03:33:20Z
        XCTAssertEqual(RetryAfter.seconds("2", now: now), 2)
        XCTAssertEqual(RetryAfter.seconds("0", now: now), 0)
        XCTAssertEqual(RetryAfter.seconds("Tue, 14 Jul 2026 03:33:50 GMT", now: now), 30)
        XCTAssertEqual(RetryAfter.seconds("Tue, 14 Jul 2026 03:33:00 GMT", now: now), 0, "a date in the past: at once")
        for ignored in [nil, "", "-5", "inf", "nan", "soon", "2 s", "Tue, 14 Jul 2026 03:33:50 PST", "2026-07-14T03:33:50Z"] {
            XCTAssertNil(RetryAfter.seconds(ignored, now: now), ignored ?? "nil")
        }
        XCTAssertEqual(HTTPDate.seconds("Thu, 01 Jan 1970 00:00:00 GMT"), 0)
        XCTAssertEqual(HTTPDate.seconds("Sun, 29 Feb 2032 12:00:00 GMT"), 1_961_668_800)
        XCTAssertEqual(HTTPDate.seconds("Fri, 31 Dec 1999 23:59:59 GMT"), 946_684_799)
        XCTAssertEqual(ProviderOutcome.fcm(status: 503, body: nil, retryAfter: "7"), .retry(after: 7))
    }

    func testBackoffDoublesWithJitterAndHonoursRetryAfter() {
        XCTAssertEqual(RetryDelay.next(attempt: 0, retryAfter: nil, random: 1), 0.2, accuracy: 1e-9)
        XCTAssertEqual(RetryDelay.next(attempt: 1, retryAfter: nil, random: 1), 0.4, accuracy: 1e-9)
        XCTAssertEqual(RetryDelay.next(attempt: 2, retryAfter: nil, random: 0.5), 0.4, accuracy: 1e-9, "jitter down to half")
        XCTAssertEqual(RetryDelay.next(attempt: 0, retryAfter: 7, random: 1), 7, "Retry-After wins when longer")
        XCTAssertEqual(RetryDelay.next(attempt: 3, retryAfter: 0.1, random: 1), 1.6, accuracy: 1e-9, "backoff wins when longer")
    }
}

final class UUIDStringTests: XCTestCase {
    func testVersion4UUIDsInCanonicalForm() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = UUIDString.random()
            XCTAssertEqual(id.count, 36)
            let groups = id.split(separator: "-", omittingEmptySubsequences: false)
            XCTAssertEqual(groups.map(\.count), [8, 4, 4, 4, 12], id)
            XCTAssertTrue(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || $0 == 0x2D }, id)
            XCTAssertEqual(groups[2].first, "4", "version 4")
            XCTAssertTrue("89ab".contains(groups[3].first!), "RFC 4122 variant")
            XCTAssertEqual(UUID(uuidString: id)?.uuidString.lowercased(), id, "Foundation reads it back")
            seen.insert(id)
        }
        XCTAssertEqual(seen.count, 1000)
    }
}
