#include "CShims.h"
#include <openssl/crypto.h>
#include <stringprep.h>

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

struct MHD_Daemon *shim_mhd_start(const struct sockaddr *addr,
                                  struct shim_mhd_limits limits,
                                  MHD_AccessHandlerCallback handler,
                                  MHD_RequestCompletedCallback completed,
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

void shim_openssl_free(void *pointer) { OPENSSL_free(pointer); }

int shim_nodeprep(char *buffer, size_t capacity) {
    return stringprep(buffer, capacity, STRINGPREP_NO_UNASSIGNED, stringprep_xmpp_nodeprep);
}

int shim_saslprep(char *buffer, size_t capacity) {
    return stringprep(buffer, capacity, STRINGPREP_NO_UNASSIGNED, stringprep_saslprep);
}

int shim_mhd_client_address(struct MHD_Connection *connection, char *out, size_t capacity) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return -1;
    const struct sockaddr *addr = info->client_addr;
    const void *raw = addr->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr
                                                  : (const void *)&((const struct sockaddr_in *)addr)->sin_addr;
    return inet_ntop(addr->sa_family, raw, out, (socklen_t)capacity) ? 0 : -1;
}

CURLcode shim_easy_setopt_long(CURL *easy, CURLoption option, long value) { return curl_easy_setopt(easy, option, value); }
CURLcode shim_easy_setopt_ptr(CURL *easy, CURLoption option, const void *value) { return curl_easy_setopt(easy, option, value); }
CURLcode shim_easy_setopt_off(CURL *easy, CURLoption option, curl_off_t value) { return curl_easy_setopt(easy, option, value); }
CURLcode shim_easy_setopt_write(CURL *easy, shim_curl_data_callback callback, void *user) {
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, callback);
    return rc != CURLE_OK ? rc : curl_easy_setopt(easy, CURLOPT_WRITEDATA, user);
}
CURLcode shim_easy_setopt_header(CURL *easy, shim_curl_data_callback callback, void *user) {
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, callback);
    return rc != CURLE_OK ? rc : curl_easy_setopt(easy, CURLOPT_HEADERDATA, user);
}
CURLcode shim_easy_setopt_closesocket(CURL *easy, curl_closesocket_callback callback, void *user) {
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, callback);
    return rc != CURLE_OK ? rc : curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, user);
}
CURLcode shim_easy_setopt_sockopt(CURL *easy, curl_sockopt_callback callback, void *user) {
    CURLcode rc = curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, callback);
    return rc != CURLE_OK ? rc : curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, user);
}
CURLMcode shim_multi_setopt_long(CURLM *multi, CURLMoption option, long value) { return curl_multi_setopt(multi, option, value); }
CURLMcode shim_multi_setopt_socket(CURLM *multi, curl_socket_callback callback, void *user) {
    CURLMcode rc = curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, callback);
    return rc != CURLM_OK ? rc : curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, user);
}
CURLMcode shim_multi_setopt_timer(CURLM *multi, curl_multi_timer_callback callback, void *user) {
    CURLMcode rc = curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, callback);
    return rc != CURLM_OK ? rc : curl_multi_setopt(multi, CURLMOPT_TIMERDATA, user);
}
long shim_easy_getinfo_long(CURL *easy, CURLINFO info) { long value = 0; curl_easy_getinfo(easy, info, &value); return value; }
void *shim_easy_getinfo_private(CURL *easy) { char *value = NULL; curl_easy_getinfo(easy, CURLINFO_PRIVATE, &value); return value; }
