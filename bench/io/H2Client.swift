// The shared HTTP/2 client alone against an HTTP/2 + TLS sink, beside a plain libcurl multi loop
// (curl_multi_perform + curl_multi_poll on one thread, the same easy options) as the floor of what
// libcurl costs here. Started by bench/io_clients.py:
//   switchboard-io-bench h2 URL CA_FILE REQUESTS WINDOW ROUNDS
// Prints, per round and client: requests/s and CPU microseconds per request (this process).
import CCurl
import CCurlShims
import Dispatch
import Loop
import HTTP2Client
#if canImport(Glibc)
import Glibc
#endif

private enum Setting {
    static let arguments = Arguments(usage: "h2 URL CA_FILE REQUESTS WINDOW ROUNDS", count: 5, numbersFrom: 3)
    static let url = arguments[0], caFile = arguments[1]
    static let requests = Int(arguments[2])!, window = Int(arguments[3])!, rounds = Int(arguments[4])!
    static let body = Array(#"{"aps":{"alert":{"title":"New message"},"mutable-content":1},"node":"0123456789abcdef"}"#.utf8)
    static let headers = [("apns-push-type", "alert"), ("apns-topic", "com.example.app"), ("apns-priority", "10"),
                          ("apns-expiration", "0"), ("apns-id", "0b2a8c2e-8a2f-4bd1-a1b2-3c4d5e6f7a8b"),
                          ("authorization", "bearer " + String(repeating: "x", count: 180)), ("content-type", "application/json")]
}
@LoopActor private func measure(_ run: @LoopActor () async -> Int) async -> Measurement {
    let started = Measurement.Start()
    return started.finish(count: Setting.requests, failures: await run())
}

@LoopActor private final class ClientRun {
    var next = 0, failures = 0, finishedWorkers = 0
}

/// `requests` sends through ``HTTP2Client`` with `window` in flight (one task each), on the loop.
@LoopActor private func runClient(_ client: HTTP2Client) async -> Int {
    let run = ClientRun(), workers = min(Setting.window, Setting.requests)
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        for _ in 0..<workers {
            spawnOnLoop {
                while run.next < Setting.requests {
                    run.next += 1
                    let outcome = await client.send(.init(url: Setting.url, headers: Setting.headers, body: Setting.body))
                    if case .success(let response) = outcome, response.status < 500 { continue }
                    run.failures += 1
                }
                run.finishedWorkers += 1
                if run.finishedWorkers == workers { done.resume() }
            }
        }
    }
    return run.failures
}

/// The same requests through a bare curl multi handle driven by curl_multi_perform/curl_multi_poll;
/// with `reusingHandles`, each finished easy handle is added again for the next request (as the
/// reference's tight loop did) instead of a new one set up.
private func runPlainCurl(reusingHandles: Bool) -> Int {
    let multi = curl_multi_init()!
    shim_multi_setopt_long(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)
    shim_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1)
    var started = 0, done = 0, failures = 0
    func start() {
        let easy = curl_easy_init()!
        shim_easy_setopt_ptr(easy, CURLOPT_URL, Setting.url)
        shim_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        shim_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1)
        shim_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        shim_easy_setopt_ptr(easy, CURLOPT_CAINFO, Setting.caFile)
        shim_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(Setting.body.count))
        Setting.body.withUnsafeBytes { _ = shim_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in Setting.headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")
        shim_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)
        shim_easy_setopt_ptr(easy, CURLOPT_PRIVATE, UnsafeRawPointer(list))
        shim_easy_setopt_write(easy, { _, size, count, _ in size * count }, nil)
        curl_multi_add_handle(multi, easy)
        started += 1
    }
    while started < min(Setting.window, Setting.requests) { start() }
    var running: Int32 = 0
    while done < Setting.requests {
        curl_multi_perform(multi, &running)
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            if message.pointee.data.result != CURLE_OK || shim_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE) >= 500 { failures += 1 }
            curl_multi_remove_handle(multi, easy)
            done += 1
            if reusingHandles, started < Setting.requests {
                curl_multi_add_handle(multi, easy)
                started += 1
                continue
            }
            let list = shim_easy_getinfo_private(easy)?.assumingMemoryBound(to: curl_slist.self)
            curl_easy_cleanup(easy)
            curl_slist_free_all(list)
            if started < Setting.requests { start() }
        }
        if done < Setting.requests { curl_multi_poll(multi, nil, 0, 100, nil) }
    }
    curl_multi_cleanup(multi)
    return failures
}

/// Both clients, alternating, `rounds` times.
@LoopActor func benchmarkHTTP2Client() async {
    curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    print("| client | requests/s | CPU µs/request | failures |")
    print("|---|---|---|---|")
    let client = HTTP2Client(caFile: Setting.caFile)
    for round in 1...Setting.rounds {
        print(await measure { await runClient(client) }.line("HTTP2Client on the loop, round \(round)"))
        for reusing in [false, true] {
            // The plain loop blocks its thread: run it off the loop so the loop stays honest.
            let plain = await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: runPlainCurlMeasured(reusingHandles: reusing)) }
            }
            print(plain.line("plain curl multi\(reusing ? ", handles reused" : ""), round \(round)"))
        }
    }
}

private func runPlainCurlMeasured(reusingHandles: Bool) -> Measurement {
    let started = Measurement.Start()
    return started.finish(count: Setting.requests, failures: runPlainCurl(reusingHandles: reusingHandles))
}
