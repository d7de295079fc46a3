// Benchmarks of the client sides of Switchboard's I/O, each beside the plainest use of the same C
// library, release build:
//   switchboard-io-bench h2 …   the HTTP/2 client
//   switchboard-io-bench pg …   PostgreSQL round trips
// Both are run by bench/io_clients.py.
import Dispatch
import Loop
#if canImport(Glibc)
import Glibc
#endif

let mode = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ""
guard mode == "h2" || mode == "pg" else {
    print("usage: switchboard-io-bench h2|pg …")
    exit(2)
}
spawnOnLoop {
    if mode == "h2" { await benchmarkHTTP2Client() } else { await benchmarkDatabaseRoundTrips() }
    exit(0)
}
dispatchMain()
