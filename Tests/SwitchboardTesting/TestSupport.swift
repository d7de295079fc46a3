import Foundation
import XCTest

/// Paths and helpers shared by the test targets.
public enum TestSupport {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func fixture(_ path: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent("fixtures").appendingPathComponent(path))
    }

    /// Runs the project's Python (the venv that scripts/install-deps makes) and returns stdout.
    public static func python(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
        let venv = root.appendingPathComponent(".state/venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw XCTSkip("run scripts/install-deps first: \(venv) is missing")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venv)
        process.arguments = ["-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
