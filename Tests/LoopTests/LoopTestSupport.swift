import Foundation
@testable import Loop
import XCTest

extension XCTestCase {
    /// Runs `body` on the loop and returns its result.
    func onLoop<T>(_ body: () -> T) -> T { EventLoop.queue.sync(execute: body) }

    /// Waits (up to 5 s) until `condition` holds: for checking that something does happen on the loop.
    func eventually(_ what: String, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(5)
        while !condition() {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)") }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }
}
