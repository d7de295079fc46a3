import Foundation
import Loop
import XCTest
import XMPP
import XMPPComponent

/// The router on its own: requests in, exact answers out.
final class IQRouterTests: XCTestCase {
    private static let identity = XEP0030.Identity(category: "pubsub", type: "push", name: "Switchboard push")

    /// The answer as the connection sends it: the route's own, or the handler's (nil: declined).
    private func answer(_ router: IQRouter, _ request: XMLElement) -> String {
        let result = LockedString()
        let done = expectation(description: "answered")
        spawnOnLoop {
            switch router.route(request) {
            case .answer(let answer): result.set(answer.xml())
            case .handler(let handler): result.set((await handler(request) ?? IQRouter.declined(request)).xml())
            }
            done.fulfill()
        }
        wait(for: [done], timeout: 5)
        return result.get()
    }

    private static func request(_ type: IQType, _ name: String, _ namespace: String) -> XMLElement {
        Stanza.iq(type: type, id: "q1", from: "example.com", to: "push.example.com", payload: XMLElement(name, namespace: namespace))
    }

    @LoopActor
    private static func router() -> IQRouter {
        var router = IQRouter(identity: identity)
        router.register(.init(.get, "ping", namespace: XEP0199.namespace), feature: XEP0199.namespace) { Stanza.result(to: $0) }
        router.register(.init(.set, "pubsub", namespace: XEP0357.pubsubNamespace), feature: XEP0357.namespace) { iq in
            XEP0357.publish(in: iq) == nil ? nil : Stanza.result(to: iq, payload: XMLElement("handled", namespace: "test"))
        }
        return router
    }

    func testRegisteredHandlersAnswer() {
        let router = EventLoop.queue.sync { LoopActor.assumeIsolated { Self.router() } }
        XCTAssertEqual(answer(router, Self.request(.get, "ping", XEP0199.namespace)),
                       "<iq type='result' id='q1' from='push.example.com' to='example.com'/>")
        let publish = Stanza.iq(type: .set, id: "q1", from: "example.com", to: "push.example.com", payload:
            XMLElement("pubsub", namespace: XEP0357.pubsubNamespace, children: [
                XMLElement("publish", namespace: XEP0357.pubsubNamespace, attributes: [("node", "n")]),
            ]))
        XCTAssertEqual(answer(router, publish), "<iq type='result' id='q1' from='push.example.com' to='example.com'><handled xmlns='test'/></iq>")
    }

    func testDiscoFeaturesAreWhatIsRegistered() {
        let router = EventLoop.queue.sync { LoopActor.assumeIsolated { Self.router() } }
        XCTAssertEqual(answer(router, Self.request(.get, "query", XEP0030.infoNamespace)),
                       "<iq type='result' id='q1' from='push.example.com' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='pubsub' type='push' name='Switchboard push'/><feature var='http://jabber.org/protocol/disco#info'/><feature var='urn:xmpp:ping'/><feature var='urn:xmpp:push:0'/></query></iq>")
        let bare = EventLoop.queue.sync { LoopActor.assumeIsolated { IQRouter(identity: Self.identity).features } }
        XCTAssertEqual(bare, [XEP0030.infoNamespace], "nothing registered: nothing but disco itself advertised")
    }

    func testEverythingElseIsServiceUnavailable() {
        let router = EventLoop.queue.sync { LoopActor.assumeIsolated { Self.router() } }
        let unavailable = "<iq type='error' id='q1' from='push.example.com' to='example.com'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        XCTAssertEqual(answer(router, Self.request(.set, "ping", XEP0199.namespace)), unavailable, "registered for get only")
        XCTAssertEqual(answer(router, Self.request(.get, "ping", "urn:other")), unavailable, "same name, other namespace")
        XCTAssertEqual(answer(router, Self.request(.get, "query", "http://jabber.org/protocol/disco#items")), unavailable)
        XCTAssertEqual(answer(router, Self.request(.set, "query", XEP0030.infoNamespace)), unavailable, "disco#info is a get")
        XCTAssertEqual(answer(router, Stanza.iq(type: .get, id: "q1", from: "example.com", to: "push.example.com")), unavailable, "no payload")
        let subscribe = Stanza.iq(type: .set, id: "q1", from: "example.com", to: "push.example.com", payload:
            XMLElement("pubsub", namespace: XEP0357.pubsubNamespace, children: [XMLElement("subscribe", namespace: XEP0357.pubsubNamespace)]))
        XCTAssertEqual(answer(router, subscribe), unavailable, "a handler that declines")
    }
}

private final class LockedString: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ text: String) { lock.lock(); value = text; lock.unlock() }
    func get() -> String { lock.lock(); defer { lock.unlock() }; return value }
}
