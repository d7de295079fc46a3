#include "CCurlShims.h"

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
