import CMHD
import CMHDShims
import Loop

// libmicrohttpd's C callbacks for ``HTTPServer``: MHD calls them only from inside `MHD_run`, which
// the server runs on the loop, so each hands its arguments to the server on the loop.

let accessHandler: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadSize, state in
    guard let context, let connection, let url, let method, let uploadSize, let state else { return MHD_Result.NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    let call = LoopBound((connection, String(cString: url), String(cString: method), uploadData, uploadSize, state))
    return LoopActor.assumeIsolated {
        let (connection, url, method, uploadData, uploadSize, state) = call.value
        return server.handle(connection, url: url, method: method, uploadData: uploadData, uploadSize: uploadSize, state: state)
    }
}

let completedHandler: MHD_RequestCompletedCallback = { context, connection, state, _ in
    guard let context else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    let boxed = LoopBound((connection, state))
    LoopActor.assumeIsolated {
        let (connection, state) = boxed.value
        if let connection { server.startsReading(connection) }  // the next request on a kept connection
        if let state { server.completed(state) }
    }
}

/// A connection opened or closed: the read deadline of ``HTTPServer/Limits/requestReadSeconds`` runs
/// from its opening (and from each answer on a kept connection) until its request is in whole.
let connectionHandler: MHD_NotifyConnectionCallback = { context, connection, _, event in
    guard let context, let connection else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    let boxed = LoopBound(connection)
    let opened = event.rawValue == 0  // MHD_CONNECTION_NOTIFY_STARTED (Swift does not import the constant)
    LoopActor.assumeIsolated {
        if opened { server.connectionOpened(boxed.value) } else { server.connectionClosed(boxed.value) }
    }
}

/// MHD reports client protocol errors here (a malformed request, a body cut off): debug-level, since
/// any client can cause them at will.
let logHandler: shim_mhd_log_callback = { context, message in
    guard let context, let message else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    let text = String(cString: message)
    LoopActor.assumeIsolated { server.log(text) }
}
