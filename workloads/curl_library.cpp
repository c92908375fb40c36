// libcurl, loaded at the first HTTP call rather than linked. Linked, libcurl and the 25 libraries
// it needs (GnuTLS, Kerberos, LDAP, SSH, ...) were loaded and relocated at every start of every
// program, 6.5 ms of each: a third of `cbench run --workload wordcount`'s start, for the runs that
// never download anything (docs/running.md, "What a run costs besides the work").
//
// This file defines the libcurl functions the project calls, with the declarations of
// <curl/curl.h>, so that no caller changes: each forwards to libcurl.so.4, opened with dlopen on
// first use. The definitions are hidden: were they exported, libcurl's own calls between its
// public functions (curl_easy_perform calls curl_multi_add_handle) would bind to them and loop.
// A libcurl that cannot be loaded is an error naming the file and dlerror's reason, thrown from
// the call that needed it.
#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace cbench {
namespace {

struct CurlApi {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  CURLM* (*multi_init)();
  CURLMcode (*multi_cleanup)(CURLM*);
  CURLMcode (*multi_add_handle)(CURLM*, CURL*);
  CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
  CURLMcode (*multi_setopt)(CURLM*, CURLMoption, ...);
  CURLMcode (*multi_socket_action)(CURLM*, curl_socket_t, int, int*);
  CURLMsg* (*multi_info_read)(CURLM*, int*);
  curl_version_info_data* (*version_info)(CURLversion);
};

constexpr const char* kLibrary = "libcurl.so.4";

const CurlApi& api() {
  // A function-local static: initialised once, thread-safely, at the first call.
  static const CurlApi loaded = [] {
    void* handle = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      throw std::runtime_error(std::string("cannot load ") + kLibrary +
                               " (libcurl): " + (why != nullptr ? why : "dlopen failed"));
    }
    CurlApi a{};
    auto bind = [handle](auto& function, const char* name) {
      void* symbol = ::dlsym(handle, name);
      if (symbol == nullptr) {
        throw std::runtime_error(std::string(kLibrary) + " has no " + name +
                                 ": a libcurl older than 7.88?");
      }
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(symbol);
    };
    bind(a.global_init, "curl_global_init");
    bind(a.easy_init, "curl_easy_init");
    bind(a.easy_cleanup, "curl_easy_cleanup");
    bind(a.easy_reset, "curl_easy_reset");
    bind(a.easy_perform, "curl_easy_perform");
    bind(a.easy_setopt, "curl_easy_setopt");
    bind(a.easy_getinfo, "curl_easy_getinfo");
    bind(a.easy_strerror, "curl_easy_strerror");
    bind(a.multi_init, "curl_multi_init");
    bind(a.multi_cleanup, "curl_multi_cleanup");
    bind(a.multi_add_handle, "curl_multi_add_handle");
    bind(a.multi_remove_handle, "curl_multi_remove_handle");
    bind(a.multi_setopt, "curl_multi_setopt");
    bind(a.multi_socket_action, "curl_multi_socket_action");
    bind(a.multi_info_read, "curl_multi_info_read");
    bind(a.version_info, "curl_version_info");
    return a;
  }();
  return loaded;
}

}  // namespace
}  // namespace cbench

#pragma GCC visibility push(hidden)

CURLcode curl_global_init(long flags) {
  return cbench::api().global_init(flags);
}
CURL* curl_easy_init() {
  return cbench::api().easy_init();
}
void curl_easy_cleanup(CURL* easy) {
  cbench::api().easy_cleanup(easy);
}
void curl_easy_reset(CURL* easy) {
  cbench::api().easy_reset(easy);
}
CURLcode curl_easy_perform(CURL* easy) {
  return cbench::api().easy_perform(easy);
}
const char* curl_easy_strerror(CURLcode code) {
  return cbench::api().easy_strerror(code);
}
CURLM* curl_multi_init() {
  return cbench::api().multi_init();
}
CURLMcode curl_multi_cleanup(CURLM* multi) {
  return cbench::api().multi_cleanup(multi);
}
CURLMcode curl_multi_add_handle(CURLM* multi, CURL* easy) {
  return cbench::api().multi_add_handle(multi, easy);
}
CURLMcode curl_multi_remove_handle(CURLM* multi, CURL* easy) {
  return cbench::api().multi_remove_handle(multi, easy);
}
CURLMcode curl_multi_socket_action(CURLM* multi, curl_socket_t socket, int mask, int* running) {
  return cbench::api().multi_socket_action(multi, socket, mask, running);
}
CURLMsg* curl_multi_info_read(CURLM* multi, int* left) {
  return cbench::api().multi_info_read(multi, left);
}
curl_version_info_data* curl_version_info(CURLversion version) {
  return cbench::api().version_info(version);
}

namespace cbench {
namespace {

// The one argument after an option, read as its type says (curl.h: option numbers are
// type * 10000 + n) and passed on. Every type travels in one integer register.
template <class Code, class Handle, class Option>
Code forward_option(Code (*call)(Handle*, Option, ...), Handle* handle, Option option,
                    va_list arguments) {
  switch (option / 10000 * 10000) {
    case CURLOPTTYPE_LONG:
      return call(handle, option, va_arg(arguments, long));
    case CURLOPTTYPE_OFF_T:
      return call(handle, option, va_arg(arguments, curl_off_t));
    default:  // objects, strings, lists, callbacks, blobs: pointers
      return call(handle, option, va_arg(arguments, void*));
  }
}

}  // namespace
}  // namespace cbench

// The variadic three. Names in parentheses: <curl/curl.h> makes them macros that check the
// argument's type at each call.
CURLcode(curl_easy_setopt)(CURL* easy, CURLoption option, ...) {
  va_list arguments;
  va_start(arguments, option);
  const CURLcode code = cbench::forward_option(cbench::api().easy_setopt, easy, option, arguments);
  va_end(arguments);
  return code;
}

CURLMcode(curl_multi_setopt)(CURLM* multi, CURLMoption option, ...) {
  va_list arguments;
  va_start(arguments, option);
  const CURLMcode code =
      cbench::forward_option(cbench::api().multi_setopt, multi, option, arguments);
  va_end(arguments);
  return code;
}

CURLcode(curl_easy_getinfo)(CURL* easy, CURLINFO info, ...) {
  va_list arguments;
  va_start(arguments, info);
  void* where = va_arg(arguments, void*);  // every CURLINFO writes through a pointer
  va_end(arguments);
  return cbench::api().easy_getinfo(easy, info, where);
}

#pragma GCC visibility pop
