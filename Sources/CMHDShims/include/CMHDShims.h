/* libmicrohttpd calls Swift cannot make directly (C-variadic functions). Each wrapper is a single
   call; keep this file that small. Seen only by the HTTPServer module. */
#ifndef SWITCHBOARD_CMHDSHIMS_H
#define SWITCHBOARD_CMHDSHIMS_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <microhttpd.h>
/// The limits MHD is started with; every one is chosen deliberately by the caller.
struct shim_mhd_limits {
    unsigned int connection_limit;        /* MHD_OPTION_CONNECTION_LIMIT */
    size_t connection_memory_limit;       /* MHD_OPTION_CONNECTION_MEMORY_LIMIT (headers + buffers) */
    unsigned int connection_timeout_s;    /* MHD_OPTION_CONNECTION_TIMEOUT (idle) */
    unsigned int per_ip_connection_limit; /* MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0 = none */
};

/// Receives MHD's own error messages, already formatted (MHD hands out a printf format and va_list).
typedef void (*shim_mhd_log_callback)(void *cls, const char *message);

/// MHD_start_daemon in external epoll mode (no internal thread) with suspend/resume allowed.
/// `cls` is passed to all four callbacks.
struct MHD_Daemon *shim_mhd_start(const struct sockaddr *addr,
                                  struct shim_mhd_limits limits,
                                  MHD_AccessHandlerCallback handler,
                                  MHD_RequestCompletedCallback completed,
                                  MHD_NotifyConnectionCallback notify,
                                  shim_mhd_log_callback log, void *cls);

/// MHD_get_daemon_info(MHD_DAEMON_INFO_EPOLL_FD), which is variadic.
int shim_mhd_epoll_fd(struct MHD_Daemon *daemon);

/// MHD_get_daemon_info(MHD_DAEMON_INFO_BIND_PORT): the port actually bound (for port 0).
uint16_t shim_mhd_bound_port(struct MHD_Daemon *daemon);

/// The client's address as text (IPv4 or IPv6, no port) into `out`; returns 0 on success.
/// (MHD_get_connection_info is variadic.)
int shim_mhd_client_address(struct MHD_Connection *connection, char *out, size_t capacity);

/// Shuts the connection's socket down both ways (MHD_get_connection_info is variadic): MHD sees the
/// end of the stream on its next run and closes the connection itself. Returns 0 on success.
int shim_mhd_shutdown_connection(struct MHD_Connection *connection);

#endif
