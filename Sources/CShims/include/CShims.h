/* Non-variadic wrappers for the C APIs Swift cannot call directly (C-variadic functions and
   function-like macros). Each wrapper is a single call; keep this file that small. */
#ifndef SWITCHBOARD_CSHIMS_H
#define SWITCHBOARD_CSHIMS_H

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
/// `cls` is passed to all three callbacks.
struct MHD_Daemon *shim_mhd_start(const struct sockaddr *addr,
                                  struct shim_mhd_limits limits,
                                  MHD_AccessHandlerCallback handler,
                                  MHD_RequestCompletedCallback completed,
                                  shim_mhd_log_callback log, void *cls);

/// MHD_get_daemon_info(MHD_DAEMON_INFO_EPOLL_FD), which is variadic.
int shim_mhd_epoll_fd(struct MHD_Daemon *daemon);

/// MHD_get_daemon_info(MHD_DAEMON_INFO_BIND_PORT): the port actually bound (for port 0).
uint16_t shim_mhd_bound_port(struct MHD_Daemon *daemon);

/// The client's address as text (IPv4 or IPv6, no port) into `out`; returns 0 on success.
/// (MHD_get_connection_info is variadic.)
int shim_mhd_client_address(struct MHD_Connection *connection, char *out, size_t capacity);

/// RFC 3920 nodeprep and RFC 4013 SASLprep (libidn's profiles are extern arrays Swift cannot name).
/// Both prepare `buffer` in place (NUL-terminated, `capacity` bytes in all), refuse unassigned code
/// points (the strings are stored), and return libidn's Stringprep_rc (0 = success).
int shim_nodeprep(char *buffer, size_t capacity);
int shim_saslprep(char *buffer, size_t capacity);

/// libcurl: the variadic curl_easy_setopt / curl_multi_setopt / curl_easy_getinfo, one typed wrapper
/// per argument type (function pointers keep their type: passing them as void* is undefined).
#include <curl/curl.h>
CURLcode shim_easy_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode shim_easy_setopt_ptr(CURL *easy, CURLoption option, const void *value);
CURLcode shim_easy_setopt_off(CURL *easy, CURLoption option, curl_off_t value);
typedef size_t (*shim_curl_data_callback)(char *data, size_t size, size_t count, void *user);
CURLcode shim_easy_setopt_write(CURL *easy, shim_curl_data_callback callback, void *user);
CURLcode shim_easy_setopt_header(CURL *easy, shim_curl_data_callback callback, void *user);
CURLcode shim_easy_setopt_closesocket(CURL *easy, curl_closesocket_callback callback, void *user);
CURLcode shim_easy_setopt_sockopt(CURL *easy, curl_sockopt_callback callback, void *user);
CURLMcode shim_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
CURLMcode shim_multi_setopt_socket(CURLM *multi, curl_socket_callback callback, void *user);
CURLMcode shim_multi_setopt_timer(CURLM *multi, curl_multi_timer_callback callback, void *user);
long shim_easy_getinfo_long(CURL *easy, CURLINFO info);
void *shim_easy_getinfo_private(CURL *easy);

/// OPENSSL_free is a macro.
void shim_openssl_free(void *pointer);

#endif
