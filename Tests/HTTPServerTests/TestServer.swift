import Dispatch
import HTTPServer
import JSONAPI
import Logging
import Loop

/// Starts a server with the API's error bodies on a free loopback port, from a test's thread.
func startTestServer(_ router: Router, limits: HTTPServer.Limits) -> (server: HTTPServer, port: UInt16) {
    EventLoop.queue.sync {
        LoopActor.assumeIsolated {
            let server = HTTPServer(host: "127.0.0.1", port: 0, router: router, limits: limits, refusals: APIError.refusals, logger: Logger(label: "test"))
            try! server.start()
            return (server, server.port)
        }
    }
}

func stopTestServer(_ server: HTTPServer?) {
    EventLoop.queue.sync { LoopActor.assumeIsolated { server?.stop() } }
}
