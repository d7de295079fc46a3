import Services
import XCTest

final class PushDeviceTests: XCTestCase {
    private static let token = String(repeating: "ab", count: 32)

    private func appIDField(_ appID: String, allowed: Set<String>?) -> String? {
        let result = PushDevice.validated(uuid: "11111111-2222-3333-4444-555555555555", platform: "ios", pushToken: Self.token,
                                          voipToken: nil, appID: appID, environment: nil, allowedAppIDs: allowed)
        if case .failure(let invalid) = result { return "\(invalid.field): \(invalid.rule)" }
        return nil
    }

    /// APP_IDS keeps a client from aiming this server's pushes at another app of the same team.
    func testAnAllowListRefusesOtherApps() {
        let allowed: Set<String> = ["com.example.chat", "com.example.chat.beta"]
        XCTAssertNil(appIDField("com.example.chat", allowed: allowed))
        XCTAssertNil(appIDField("com.example.chat.beta", allowed: allowed))
        XCTAssertEqual(appIDField("com.example.bank", allowed: allowed), "app_id: one of the apps this server pushes to")
        XCTAssertEqual(appIDField("COM.EXAMPLE.CHAT", allowed: allowed), "app_id: one of the apps this server pushes to", "exact, as APNs topics are")
        XCTAssertNil(appIDField("com.example.bank", allowed: nil), "unset: any app")
        XCTAssertEqual(appIDField("no dots", allowed: nil), "app_id: a bundle id or package name such as com.example.chat")
    }
}
