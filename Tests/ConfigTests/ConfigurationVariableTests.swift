import Config
import Foundation
import XCTest

/// The variable table in code and docs/configuration.md's table are one: the docs' rows are the code's
/// rendered, and every name the reader (and the logger's set-up) reads is in it.
final class ConfigurationVariableTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func source(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    func testTheDocsTableIsTheCodeTableRendered() throws {
        let documented = try source("docs/configuration.md").split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        XCTAssertEqual(documented, ConfigurationVariable.all.map(\.markdownRow))
    }

    func testEveryVariableReadIsInTheTable() throws {
        let readers = try source("Sources/Config/ConfigurationReader.swift") + source("Sources/switchboard/Startup.swift")
        let pattern = try NSRegularExpression(pattern: #""([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)""#)
        let read = Set(pattern.matches(in: readers, range: NSRange(readers.startIndex..., in: readers)).compactMap {
            Range($0.range(at: 1), in: readers).map { String(readers[$0]) }
        })
        XCTAssertFalse(read.isEmpty)
        // "COMPONENT_SECRET" is a suffix the secrets check compares names with, not a variable.
        XCTAssertEqual(read.subtracting(ConfigurationVariable.names).subtracting(["COMPONENT_SECRET"]), [], "read but not documented")
    }
}
