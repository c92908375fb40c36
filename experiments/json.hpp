// cbench's JSON, written and read with one library (nlohmann's JSON for Modern C++): the CLI's
// --json document, `cbench list --json`, the per-task trace, the journal's header and its
// reading on resume, and the fragments each experiment writes for its task values. An ordered
// object keeps its keys in the order they were set, the order the documents have always had.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace cbench::json {

using Document = nlohmann::ordered_json;

// One line of JSON text; bytes that are not UTF-8 (a file name, say) become U+FFFD, never an
// exception.
inline std::string dump(const Document& value) {
  return value.dump(-1, ' ', false, Document::error_handler_t::replace);
}

// A string as JSON text, with the escapes RFC 8259 requires.
inline std::string quote(std::string_view s) {
  return dump(Document(std::string(s)));
}

// A double as a JSON value: null when it is not finite (JSON has no NaN or infinity).
inline Document finite(double v) {
  return std::isfinite(v) ? Document(v) : Document(nullptr);
}

// A double as text that reads back as the same double ("%.17g"), for the lines and fragments the
// experiments write; "null" when it is not finite.
inline std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

}  // namespace cbench::json
