import Logging
import Loop
import Postgres
@testable import Services
import SwitchboardTesting
import XCTest
import XMPP

/// The XEP-0357 decision with a fake registry and a scripted provider: every answer docs/xmpp.md
/// names, byte for byte where ejabberd reads it, and whether a push was queued.
final class PushAppServerTests: XCTestCase {
    private static let node = "NODE-alice"
    private static let secret = "s3cr3t-NODE-alice"

    private struct Fixture {
        let server: PushAppServer
        let store: MemoryPushStore
        let provider: ScriptedProvider
        let delivery: PushDelivery
    }

    @LoopActor
    private static func fixture(queueLimit: Int = 10, registration: NodeRegistration? = NodeRegistration(
        secret: secret, tokenDead: false, target: .sample())) -> Fixture {
        let store = MemoryPushStore()
        if let registration { store.registrations[node] = registration }
        let provider = ScriptedProvider(.ios, [.delivered(messageID: nil)])
        provider.holding = true  // keeps what was queued in flight, countable
        let delivery = PushDelivery(providers: [provider], store: store, logger: Logger(label: "test"), queueLimit: queueLimit,
                                    clock: InstantClock().clock, jitter: { 1.0 })
        let server = PushAppServer(serverDomain: "example.com", store: store, delivery: delivery, logger: Logger(label: "test"))
        return Fixture(server: server, store: store, provider: provider, delivery: delivery)
    }

    /// The publish ejabberd 23.01 sends (docs/xmpp.md), with this node, secret and sender.
    private static func publishIQ(from: String = "example.com", node: String = node, secret: String? = secret,
                                  sender: String = "bob@example.com/7568") -> XMLElement {
        let summary = DataForm(type: .submit, fields: [
            .init("FORM_TYPE", type: "hidden", value: "urn:xmpp:push:summary"),
            .init("last-message-sender", type: "jid-single", value: sender),
        ])
        let options = DataForm(type: .submit, fields: [.init("FORM_TYPE", value: "http://jabber.org/protocol/pubsub#publish-options")]
                               + (secret.map { [.init("secret", value: $0)] } ?? []))
        let pubsub = XMLElement("pubsub", namespace: XEP0357.pubsubNamespace, children: [
            XMLElement("publish", namespace: XEP0357.pubsubNamespace, attributes: [("node", node)], children: [
                XMLElement("item", namespace: XEP0357.pubsubNamespace, children: [
                    XMLElement("notification", namespace: XEP0357.namespace, children: [summary.element]),
                ]),
            ]),
            XMLElement("publish-options", namespace: XEP0357.pubsubNamespace, children: [options.element]),
        ])
        return Stanza.iq(type: .set, id: "rr-1", from: from, to: "push.example.com", payload: pubsub)
    }

    private func check(_ fixture: @escaping @Sendable @LoopActor () -> Fixture, _ iq: XMLElement, answers expected: String,
                       queued: Int, file: StaticString = #filePath, line: UInt = #line) {
        let done = expectation(description: "answered")
        spawnOnLoop {
            let f = fixture()
            let answer = await f.server.answer(iq)
            XCTAssertEqual(answer?.xml(), expected, file: file, line: line)
            XCTAssertEqual(f.delivery.pendingCount, queued, "pushes queued", file: file, line: line)
            f.provider.release()
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }

    private static let head = "<iq type='%@' id='rr-1' from='push.example.com' to='example.com'"

    private static func error(_ type: String, _ condition: String) -> String {
        String(format: head, "error") + "><error type='\(type)'><\(condition) xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    }

    func testAcceptedIsAResultAndQueuesTheMessagePush() {
        check({ Self.fixture() }, Self.publishIQ(), answers: String(format: Self.head, "result") + "/>", queued: 1)
        let done = expectation(description: "push")
        spawnOnLoop {
            let f = Self.fixture()
            _ = await f.server.answer(Self.publishIQ())
            for _ in 0..<100 where f.provider.attempts.isEmpty { await Task.yield() }
            XCTAssertEqual(f.provider.attempts.first?.kind, .message(sender: "bob@example.com", conversation: "bob@example.com"),
                           "the sender's bare JID, never the message body")
            XCTAssertEqual(f.provider.attempts.first?.target, .sample())
            f.provider.release()
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }

    func testAPublishFromAnyoneButTheServerIsForbidden() {
        check({ Self.fixture() }, Self.publishIQ(from: "alice@example.com/phone"),
              answers: Self.error("auth", "forbidden").replacingOccurrences(of: "to='example.com'", with: "to='alice@example.com/phone'"),
              queued: 0)
        check({ Self.fixture() }, Self.publishIQ(from: "evil.example.net"),
              answers: Self.error("auth", "forbidden").replacingOccurrences(of: "to='example.com'", with: "to='evil.example.net'"),
              queued: 0)
    }

    func testUnknownNodeAndDeadTokenAreItemNotFound() {
        check({ Self.fixture() }, Self.publishIQ(node: "NODE-nobody"), answers: Self.error("cancel", "item-not-found"), queued: 0)
        check({ Self.fixture(registration: NodeRegistration(secret: Self.secret, tokenDead: true, target: .sample())) },
              Self.publishIQ(), answers: Self.error("cancel", "item-not-found"), queued: 0)
    }

    func testAMissingOrWrongSecretIsForbidden() {
        check({ Self.fixture() }, Self.publishIQ(secret: nil), answers: Self.error("auth", "forbidden"), queued: 0)
        check({ Self.fixture() }, Self.publishIQ(secret: "s3cr3t-NODE-alicf"), answers: Self.error("auth", "forbidden"), queued: 0)
        check({ Self.fixture() }, Self.publishIQ(secret: ""), answers: Self.error("auth", "forbidden"), queued: 0)
    }

    func testTransientTroubleIsWaitNeverCancel() {
        // The database is down.
        check({
            let f = Self.fixture()
            f.store.failure = .unavailable("down")
            return f
        }, Self.publishIQ(), answers: Self.error("wait", "resource-constraint"), queued: 0)
        // The provider's queue is full.
        check({ Self.fixture(queueLimit: 0) }, Self.publishIQ(), answers: Self.error("wait", "resource-constraint"), queued: 0)
        // A stop is under way.
        check({
            let f = Self.fixture()
            f.server.stopAccepting()
            return f
        }, Self.publishIQ(), answers: Self.error("wait", "resource-constraint"), queued: 0)
        // A row that cannot be read as a target.
        check({ Self.fixture(registration: NodeRegistration(secret: Self.secret, tokenDead: false, target: nil)) },
              Self.publishIQ(), answers: Self.error("wait", "resource-constraint"), queued: 0)
    }

    func testAStopDuringTheLookupQueuesNothing() {
        let done = expectation(description: "answered")
        spawnOnLoop {
            let f = Self.fixture()
            f.store.holding = true
            let answer = spawnOnLoop { await f.server.answer(Self.publishIQ())?.xml() }
            for _ in 0..<100 where f.store.lookups == 0 { await Task.yield() }
            XCTAssertEqual(f.store.lookups, 1, "the publish is waiting for its lookup")
            f.server.stopAccepting()
            f.store.release()
            let result = await answer.value
            XCTAssertEqual(result, Self.error("wait", "resource-constraint"))
            XCTAssertEqual(f.delivery.pendingCount, 0)
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }

    func testAnIQThatIsNotAPublishIsLeftToTheRouter() {
        let done = expectation(description: "answered")
        spawnOnLoop {
            let f = Self.fixture()
            let subscribe = Stanza.iq(type: .set, id: "s1", from: "example.com", to: "push.example.com", payload:
                XMLElement("pubsub", namespace: XEP0357.pubsubNamespace, children: [XMLElement("subscribe", namespace: XEP0357.pubsubNamespace)]))
            let answer = await f.server.answer(subscribe)
            XCTAssertNil(answer)
            XCTAssertEqual(f.store.lookups, 0)
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
    }
}
