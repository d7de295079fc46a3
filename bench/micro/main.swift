// Micro-benchmarks of the hot pure functions, release build:
//   swift run -c release switchboard-bench
// Prints nanoseconds per call for each; compare runs on the same machine only.
import Dispatch
import Codecs
import Crypto
import Services
import XMPP

@inline(never) func measure(_ name: String, iterations: Int = 200_000, _ body: () -> Int) {
    var sink = 0
    for _ in 0..<1000 { sink &+= body() }  // warm-up
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<iterations { sink &+= body() }
    let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
    print(String(repeating: " ", count: max(0, 34 - name.count)) + name + ": " + String(Int(ns.rounded())) + " ns/call" + (sink == 42 ? " " : ""))
}

let secret = "0123456789abcdef0123456789abcdef0123456789"
let signer = ClientTokenSigner(secret: secret)
let turnKey = HMACKey(.sha1, key: secret)
let token = signer.issue(subject: "alice@example.com", version: 1, now: 1_700_000_000).token
let claims = Array(#"{"sub":"alice@example.com","iat":1700000000,"exp":1700086400}"#.utf8)

let sha256Key = HMACKey(.sha256, key: secret)
let message64 = [UInt8](repeating: 0x61, count: 64)
let payload = Substring(token.split(separator: ".")[1])
let bytes32 = [UInt8](repeating: 7, count: 32)

measure("HMAC-SHA256 one-shot key (64 B)") { HMACKey(.sha256, key: secret).mac(String(repeating: "a", count: 64)).count }
measure("HMAC-SHA256 prepared key (64 B)") { sha256Key.mac(message64).count }
measure("HMAC-SHA1 prepared key (28 B)") { turnKey.mac("1700086400:alice@example.com").count }
measure("base64url encode (32 B)") { Base64.urlEncoded(bytes32).utf8.count }
measure("base64url decode (\(payload.utf8.count) B)") { Base64.urlDecoded(payload)?.count ?? 0 }
measure("JSON parse (claims)") { (try? JSONValue.parse(claims)) == nil ? 0 : 1 }
measure("JWT verify") { if case .success = signer.verify(token, now: 1_700_000_100) { return 1 } else { return 0 } }
measure("TURN credentials + JSON") {
    TurnCredentials.make(secret: turnKey, jid: "alice@example.com", ttl: 86400, uris: ["turn:a:3478?transport=udp"], now: 1).json.bytes.count
}

// XMPP stream parser: stanzas per second for a push-publish IQ (about 1.2 KB, the largest stanza
// ejabberd sends us) and a small result IQ, fed in 1-byte, 64-byte and 4 KiB chunks.

func parserThroughput(_ name: String, stanza: String, count: Int, chunk: Int) {
    let header = Array("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='1'>".utf8)
    let body = Array(String(repeating: stanza, count: count).utf8)
    let parser = XMLStreamParser()
    _ = parser.feed(header)
    var stanzas = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var offset = 0
    while offset < body.count {
        let end = min(body.count, offset + chunk)
        for event in parser.feed(body[offset..<end]) { if case .stanza = event { stanzas += 1 } }
        offset = end
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    precondition(stanzas == count, "parsed \(stanzas) of \(count)")
    let perSecond = Int((Double(stanzas) / seconds).rounded())
    print(String(repeating: " ", count: max(0, 34 - name.count)) + name + ": " + String(perSecond) + " stanzas/s, "
          + String(Int((Double(body.count) / seconds / 1e6).rounded())) + " MB/s")
}

let publish = "<iq to='push.example.com' from='example.com' type='set' id='rr-1795933646706-2038008659182192457'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='NODE-alice'><item><notification xmlns='urn:xmpp:push:0'><x type='submit' xmlns='jabber:x:data'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:push:summary</value></field><field var='last-message-sender' type='jid-single'><value>bob@example.com/7568788421170312341315</value></field><field var='last-message-body' type='text-single'><value>New message</value></field></x></notification></item></publish><publish-options><x type='submit' xmlns='jabber:x:data'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='secret'><value>s3cr3t-NODE-alice</value></field></x></publish-options></pubsub></iq>"
let result = "<iq to='gateway.example.com' from='example.com' type='result' id='b1'/>"
for chunk in [1, 64, 4096] {
    parserThroughput("publish IQ, \(chunk)-byte chunks", stanza: publish, count: chunk == 1 ? 5_000 : 50_000, chunk: chunk)
}
parserThroughput("result IQ, 4096-byte chunks", stanza: result, count: 200_000, chunk: 4096)

// The call hook's body: Codable (FoundationEssentials' JSONDecoder, what JSONBody uses) against our
// own strict parser, and the call's validation (nodeprep through libidn included).
import FoundationEssentials

struct IncomingCallBody: Decodable {
    let event: String, caller: String, caller_display: String?, callee: String, call_id: String
    let t_index: Int64?, t_label: Int64?
}
let callBody = Array(#"{"event":"incoming_call","caller":"alice","caller_display":"Alice","callee":"bob","call_id":"1-16746@127.0.0.1","t_index":9719,"t_label":1813305795}"#.utf8)
let callData = Data(callBody)
measure("call hook body: JSONDecoder", iterations: 50_000) { (try? JSONDecoder().decode(IncomingCallBody.self, from: callData)) == nil ? 0 : 1 }
measure("call hook body: JSONValue.parse", iterations: 50_000) { (try? JSONValue.parse(callBody)) == nil ? 0 : 1 }
measure("call validation (nodeprep)", iterations: 50_000) {
    if case .success = SIPCall.validated(callID: "1-16746@127.0.0.1", caller: "alice", callerDisplay: "Alice", callee: "bob") { return 1 } else { return 0 }
}
