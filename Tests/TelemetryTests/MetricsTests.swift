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

    func testTheExpositionHasTheHistogramsWithHelpAndBuckets() {
        let text: String = onLoop {
            let metrics = Metrics()
            metrics.answers(of: "public")("/now", "GET", 204, 0.0003)
            metrics.observePushAttempt(platform: "ios", outcome: "delivered", seconds: 0.004)
            return String(decoding: metrics.exposition(), as: UTF8.self)
        }
        XCTAssertTrue(text.contains("# TYPE switchboard_http_request_duration_seconds histogram"), text)
        XCTAssertTrue(text.contains(#"switchboard_http_request_duration_seconds_count{listener="public",method="GET",route="/now",status="204"} 1"#), text)
        XCTAssertTrue(text.contains(#"switchboard_push_send_duration_seconds_bucket{platform="ios",outcome="delivered",le="0.005"} 1"#), text)
        XCTAssertTrue(text.contains("# HELP process_resident_memory_bytes"), text)
    }
}
