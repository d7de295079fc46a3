#include "CMHDShims.h"

#include <stdio.h>
#include <arpa/inet.h>

struct shim_log_target { shim_mhd_log_callback log; void *cls; };
static struct shim_log_target shim_log_target; /* one server per process */

static void shim_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char message[512];
    vsnprintf(message, sizeof message, fmt, ap);
    if (shim_log_target.log) shim_log_target.log(shim_log_target.cls, message);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes %HH in place as MHD's own unescaper does, except %00, which stays the three characters
   "%00": a decoded path or argument is a C string, and a NUL in it would end it early, so that
   "/a/0%00/b" reached the router as "/a/0" (another route). */
static size_t unescape_keeping_nul(void *cls, struct MHD_Connection *connection, char *s) {
    (void)cls; (void)connection;
    char *read = s, *write = s;
    while (*read) {
        int high = read[0] == '%' ? hex_value(read[1]) : -1;
        int low = high >= 0 ? hex_value(read[2]) : -1;
        if (low >= 0 && (high | low) != 0) {
            *write++ = (char)(high << 4 | low);
            read += 3;
        } else {
            *write++ = *read++;
        }
    }
    *write = 0;
    return (size_t)(write - s);
}

struct MHD_Daemon *shim_mhd_start(const struct sockaddr *addr,
                                  struct shim_mhd_limits limits,
                                  MHD_AccessHandlerCallback handler,
                                  MHD_RequestCompletedCallback completed,
                                  MHD_NotifyConnectionCallback notify,
                                  shim_mhd_log_callback log, void *cls) {
    shim_log_target.log = log;
    shim_log_target.cls = cls;
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    uint16_t port = addr->sa_family == AF_INET6
        ? ntohs(((const struct sockaddr_in6 *)addr)->sin6_port)
        : ntohs(((const struct sockaddr_in *)addr)->sin_port);
    return MHD_start_daemon(flags, port, NULL, NULL, handler, cls,
                            MHD_OPTION_EXTERNAL_LOGGER, shim_mhd_log, NULL, /* must come first */
                            MHD_OPTION_SOCK_ADDR, addr,
                            MHD_OPTION_CONNECTION_LIMIT, limits.connection_limit,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.connection_memory_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, limits.connection_timeout_s,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.per_ip_connection_limit,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
                            MHD_OPTION_NOTIFY_CONNECTION, notify, cls,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape_keeping_nul, NULL,
                            MHD_OPTION_END);
}

int shim_mhd_epoll_fd(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info ? info->epoll_fd : -1;
}

uint16_t shim_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int shim_mhd_client_address(struct MHD_Connection *connection, char *out, size_t capacity) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return -1;
    const struct sockaddr *addr = info->client_addr;
    const void *raw = addr->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr
                                                  : (const void *)&((const struct sockaddr_in *)addr)->sin_addr;
    return inet_ntop(addr->sa_family, raw, out, (socklen_t)capacity) ? 0 : -1;
}

int shim_mhd_shutdown_connection(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) return -1;
    return shutdown(info->connect_fd, SHUT_RDWR);
}
