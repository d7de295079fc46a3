/// What this build is: `switchboard --version`, the start-up log line and `switchboard_build_info` in
/// `/metrics` all say it. The version follows CHANGELOG.md; an image build may add its commit
/// (deploy/images/switchboard/Dockerfile rewrites `commit` from its `SWITCHBOARD_COMMIT` argument).
public enum BuildInfo {
    public static let version = "0.3.0"
    public static let commit = ""

    /// "0.3.0", or "0.3.0 (abc1234)" when the build knows its commit.
    public static var description: String { commit.isEmpty ? version : "\(version) (\(commit))" }
}
