// Micro-benchmarks of the hot pure functions, release build:
//   swift run -c release switchboard-bench
// Prints nanoseconds per call for each; compare runs on the same machine only.
import Dispatch
import Services

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
let token = signer.issue(subject: "alice@example.com", now: 1_700_000_000).token
let claims = Array(#"{"sub":"alice@example.com","iat":1700000000,"exp":1700086400}"#.utf8)

let sha256Key = HMACKey(.sha256, key: secret)
let message64 = [UInt8](repeating: 0x61, count: 64)
let payload = Substring(token.split(separator: ".")[1])
let bytes32 = [UInt8](repeating: 7, count: 32)

measure("HMAC-SHA256 one-shot key (64 B)") { HMAC.sha256(key: secret, message: String(repeating: "a", count: 64)).count }
measure("HMAC-SHA256 prepared key (64 B)") { sha256Key.mac(message64).count }
measure("HMAC-SHA1 prepared key (28 B)") { turnKey.mac("1700086400:alice@example.com").count }
measure("base64url encode (32 B)") { Base64.urlEncoded(bytes32).utf8.count }
measure("base64url decode (\(payload.utf8.count) B)") { Base64.urlDecoded(payload)?.count ?? 0 }
measure("JSON parse (claims)") { (try? JSONValue.parse(claims)) == nil ? 0 : 1 }
measure("JWT verify") { if case .success = signer.verify(token, now: 1_700_000_100) { return 1 } else { return 0 } }
measure("TURN credentials + JSON") {
    TurnCredentials.make(secret: turnKey, jid: "alice@example.com", ttl: 86400, uris: ["turn:a:3478?transport=udp"], now: 1).json.bytes.count
}
