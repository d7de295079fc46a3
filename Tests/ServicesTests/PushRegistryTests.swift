import Logging
import Loop
import Postgres
import Services
import SwitchboardTesting
import XCTest

/// The registrations table's rules against a real PostgreSQL.
final class PushRegistryTests: DatabaseTestCase {
    private static func device(_ n: Int) -> PushDevice {
        try! PushDevice.validated(uuid: "00000000-0000-0000-0000-00000000000\(n)", platform: "ios",
                                  pushToken: String(repeating: "0\(n)", count: 32), voipToken: nil, appID: "com.example.chat",
                                  environment: nil).get()
    }

    /// One account holds at most the limit; one more removes the least recently registered, and a
    /// re-register counts as registering.
    func testAnAccountPastItsDeviceLimitLosesItsOldestDevice() throws {
        try withFreshSchema { pool, _ in
            _ = try await MigrationRunner.apply(SchemaMigrations.all, to: pool)
            let registry = PushRegistry(database: pool, maximumDevicesPerAccount: 2, logger: Logger(label: "test"))
            func devices(_ jid: String) async throws -> [String] {
                try await pool.query("SELECT device_uuid FROM push_registrations WHERE jid = $1 ORDER BY device_uuid", [jid])
                    .rows.compactMap { $0[0].map { String($0.suffix(1)) } }
            }
            let first = try await registry.register(Self.device(1), for: "alice@example.com")
            _ = try await registry.register(Self.device(2), for: "alice@example.com")
            _ = try await registry.register(Self.device(9), for: "bob@example.com")
            let third = try await registry.register(Self.device(3), for: "alice@example.com")
            let remaining = try await devices("alice@example.com")
            XCTAssertEqual(remaining, ["2", "3"], "the first device went")
            let lookup = try await registry.registration(forNode: first.node)
            XCTAssertNil(lookup, "its node is unknown now: ejabberd's next publish gets item-not-found")
            let again = try await registry.register(Self.device(2), for: "alice@example.com")
            _ = try await registry.register(Self.device(4), for: "alice@example.com")
            let afterRefresh = try await devices("alice@example.com")
            XCTAssertEqual(afterRefresh, ["2", "4"], "device 2 registered again, so device 3 was the oldest")
            XCTAssertNotEqual(again.node, third.node)
            let bob = try await devices("bob@example.com")
            XCTAssertEqual(bob, ["9"], "another account's devices are never touched")
        }
    }
}
