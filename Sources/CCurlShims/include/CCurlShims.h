/* libcurl calls Swift cannot make directly (C-variadic functions). Seen only by the HTTP2Client module. */
#ifndef SWITCHBOARD_CCURLSHIMS_H
#define SWITCHBOARD_CCURLSHIMS_H

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

#endif
