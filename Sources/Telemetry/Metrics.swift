public import HTTPServer
public import Loop
public import Prometheus
#if canImport(Glibc)
import Glibc
#endif

/// Switchboard's Prometheus metrics (swift-prometheus, names after Prometheus' conventions): what the
/// code observes as it goes (HTTP routes, push attempts) in histograms, and what `/metrics` samples
/// when it is scraped (queues, connections, the process). `exposition()` writes the text format.
@LoopActor
public final class Metrics {
    public let registry = PrometheusCollectorRegistry()
    /// Latency buckets from 250 µs to 30 s: a hook answers in well under a millisecond, a push to a
    /// slow provider may take seconds, and 30 s is every deadline's end.
    static let buckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
                                      .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]

    private struct RouteKey: Hashable { let listener: String, method: String, route: String, status: Int }
    private var routes: [RouteKey: DurationHistogram] = [:]
    private struct PushKey: Hashable { let platform: String, outcome: String }
    private var pushes: [PushKey: DurationHistogram] = [:]
    private struct EndingKey: Hashable { let platform: String, kind: String, outcome: String }
    private var endings: [EndingKey: DurationHistogram] = [:]
    private var gauges: [String: Gauge] = [:]

    public init() {}

    /// What a listener (`public` or `internal`) reports its answers to: each goes into
    /// `switchboard_http_request_duration_seconds` by listener, method, route pattern and status.
    public func answers(of listener: String) -> HTTPServer.AnswerObserver {
        { [self] pattern, method, status, seconds in
            observeRoute(listener: listener, method: method, route: pattern, status: status, seconds: seconds)
        }
    }

    func observeRoute(listener: String, method: String, route: String, status: Int, seconds: Double) {
        let key = RouteKey(listener: listener, method: method, route: route, status: status)
        let histogram = routes[key] ?? {
            let made = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "switchboard", metricName: "http_request_duration", unitName: "seconds",
                                                 helpText: "Time from a request's headers to its answer, by listener, method, route pattern and status."),
                labels: [("listener", key.listener), ("method", key.method), ("route", key.route), ("status", String(key.status))],
                buckets: Self.buckets)
            routes[key] = made
            return made
        }()
        histogram.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// One provider attempt (`switchboard_push_send_duration_seconds`): its platform, how it ended
    /// (`delivered`, `retry`, `token_dead`, `rejected`, `configuration`) and how long it took.
    public func observePushAttempt(platform: String, outcome: String, seconds: Double) {
        let key = PushKey(platform: platform, outcome: outcome)
        let histogram = pushes[key] ?? {
            let made = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "switchboard", metricName: "push_send_duration", unitName: "seconds",
                                                 helpText: "Time of one attempt at APNs or FCM, by platform and how it ended."),
                labels: [("platform", key.platform), ("outcome", key.outcome)], buckets: Self.buckets)
            pushes[key] = made
            return made
        }()
        histogram.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// One push's whole way (`switchboard_push_delivery_duration_seconds`): from being queued (a
    /// publish or a call hook, after its registration lookup) to its final outcome, queue wait and
    /// retries included; by platform, kind (`message`, `call`, `call_cancelled`) and outcome.
    public func observePushEnding(platform: String, kind: String, outcome: String, seconds: Double) {
        let key = EndingKey(platform: platform, kind: kind, outcome: outcome)
        let histogram = endings[key] ?? {
            let made = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "switchboard", metricName: "push_delivery_duration", unitName: "seconds",
                                                 helpText: "Time from a push being queued to its final outcome, retries included, by platform, kind and outcome."),
                labels: [("platform", key.platform), ("kind", key.kind), ("outcome", key.outcome)], buckets: Self.buckets)
            endings[key] = made
            return made
        }()
        histogram.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Sets a gauge sampled at scrape time (queue depths, connection states).
    public func set(_ name: String, help: String, labels: [(String, String)] = [], to value: Double) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let gauge = gauges[key] ?? {
            let made = registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
            gauges[key] = made
            return made
        }()
        gauge.set(value)
    }

    /// The process, as Prometheus' client libraries name it: resident memory, open descriptors, CPU.
    public func sampleProcess() {
        if let status = Self.read("/proc/self/status"), let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
           let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) {
            set("process_resident_memory_bytes", help: "Resident memory size in bytes.", to: kilobytes * 1024)
        }
        if let directory = opendir("/proc/self/fd") {
            var count = -2  // . and ..
            while readdir(directory) != nil { count += 1 }
            closedir(directory)
            set("process_open_fds", help: "Number of open file descriptors.", to: Double(max(0, count - 1)))  // minus this listing's own
        }
    }

    /// Everything in the Prometheus text format (version 0.0.4).
    public func exposition() -> [UInt8] {
        sampleProcess()
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        // A counter that only the kernel increments: written as read, not through the registry.
        if let seconds = Self.cpuSeconds() {
            buffer += Array("# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total \(seconds)\n".utf8)
        }
        return buffer
    }

    private static func cpuSeconds() -> Double? {
        guard let stat = read("/proc/self/stat"), let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 12,
              let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
