import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Wall time and this process's CPU time over a run of `count` operations.
struct Measurement: Sendable {
    struct Start {
        let wall = DispatchTime.now().uptimeNanoseconds
        let cpu = Measurement.cpuMicroseconds()

        func finish(count: Int, failures: Int) -> Measurement {
            Measurement(seconds: Double(DispatchTime.now().uptimeNanoseconds - wall) / 1e9, cpu: Measurement.cpuMicroseconds() - cpu,
                        count: count, failures: failures)
        }
    }

    var seconds: Double
    var cpu: Double
    var count: Int
    var failures: Int

    var perSecond: Int { Int((Double(count) / seconds).rounded()) }
    var cpuMicrosecondsEach: Int { Int((cpu / Double(count)).rounded()) }

    func line(_ name: String) -> String { "| \(name) | \(perSecond) | \(cpuMicrosecondsEach) | \(failures) |" }

    static func cpuMicroseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }
}

/// The mode's arguments after the mode name; prints the usage and exits when they do not fit.
struct Arguments {
    let values: [String]

    init(usage: String, count: Int, numbersFrom: Int) {
        let given = Array(CommandLine.arguments.dropFirst(2))
        guard given.count == count, given[numbersFrom...].allSatisfy({ Int($0) != nil }) else {
            print("usage: switchboard-io-bench \(usage)")
            exit(2)
        }
        values = given
    }

    subscript(index: Int) -> String { values[index] }
}
