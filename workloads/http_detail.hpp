// What the blocking and the asynchronous libcurl clients share: one transfer's state, its
// options, and how its outcome becomes an HttpError. Internal to workloads/.
#pragma once

#include <curl/curl.h>

#include <exception>
#include <string>

#include "workloads/http.hpp"

namespace cbench::http_detail {

struct Transfer {
  BodySink sink;
  std::size_t received = 0;
  std::exception_ptr sink_error;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

void global_init();
void configure(CURL* easy, const std::string& url, const HttpOptions& options, Transfer& transfer);
// Throws the transfer's error, if any: the sink's own exception, or an HttpError.
void check(CURL* easy, CURLcode code, const std::string& url, const Transfer& transfer);

}  // namespace cbench::http_detail
