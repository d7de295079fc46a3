import HTTPServer
import Loop
import Telemetry
import XCTest

final class MetricsTests: XCTestCase {
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable @LoopActor () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        spawnOnLoop {
            result = await body()
            done.signal()
        }
        done.wait()
        return result!
    }

    /// Every kind of route but the prepared (fixed) one is timed, labelled with its pattern.
    func testTimedRoutesReportTheirPatternStatusAndDuration() {
        let seen: [String] = onLoop {
            var router = Router()
            router.add(.GET, "/now", .immediate { _ in HTTPResponse(status: 200) })
            router.add(.POST, "/later/{id}", .deferred { _ in HTTPResponse(status: 202) })
            router.add(.GET, "/either", .adaptive { _ in .running { HTTPResponse(status: 503) } })
            router.add(.GET, "/fixed", .fixed(PreparedResponse(HTTPResponse(status: 200))))
            var observed: [String] = []
            let timed = router.timed { pattern, method, status, seconds in
                observed.append("\(method.rawValue) \(pattern) \(status) \(seconds >= 0)")
            }
            for (method, path) in [(HTTPMethod.GET, "/now"), (.POST, "/later/42"), (.GET, "/either"), (.GET, "/fixed")] {
                guard case .found(let handler, _, _) = timed.match(method, path) else { continue }
                let request = HTTPRequest(method: method, path: path)
                switch handler {
                case .immediate(let answer): _ = answer(request)
                case .deferred(let answer): _ = await answer(request)
                case .adaptive(let decide):
                    if case .running(let work) = decide(request) { _ = await work() }
                case .fixed: break
                }
            }
            return observed
        }
        XCTAssertEqual(seen, ["GET /now 200 true", "POST /later/{id} 202 true", "GET /either 503 true"])
    }

    func testTheExpositionHasTheHistogramsWithHelpAndBuckets() {
        let text: String = onLoop {
            let metrics = Metrics()
            var router = Router()
            router.add(.GET, "/now", .immediate { _ in HTTPResponse(status: 204) })
            let timed = metrics.timing(router, listener: "public")
            if case .found(.immediate(let answer), _, _) = timed.match(.GET, "/now") { _ = answer(HTTPRequest(method: .GET, path: "/now")) }
            metrics.observePushAttempt(platform: "ios", outcome: "delivered", seconds: 0.004)
            return String(decoding: metrics.exposition(), as: UTF8.self)
        }
        XCTAssertTrue(text.contains("# TYPE switchboard_http_request_duration_seconds histogram"), text)
        XCTAssertTrue(text.contains(#"switchboard_http_request_duration_seconds_count{listener="public",method="GET",route="/now",status="204"} 1"#), text)
        XCTAssertTrue(text.contains(#"switchboard_push_send_duration_seconds_bucket{platform="ios",outcome="delivered",le="0.005"} 1"#), text)
        XCTAssertTrue(text.contains("# HELP process_resident_memory_bytes"), text)
    }
}
