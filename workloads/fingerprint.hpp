// E4: the PBKDF2 fingerprint of a book, CPU bound (docs/design.md, "Workload semantics").
#pragma once

#include <string>
#include <string_view>

namespace cbench {

// The bytes Python's text-mode read hands to str.encode(): "\r\n" and "\r" become "\n".
// Throws unicode::InvalidUtf8 when the raw bytes are not UTF-8 (Python would fail to decode).
std::string python_text_bytes(std::string_view raw);

// PBKDF2-HMAC-SHA512(password = python_text_bytes(raw), salt = "salt", iterations, 64 bytes), as
// lower-case hex: the value of hashlib.pbkdf2_hmac('sha512', text.encode(), b'salt', iterations).
// iterations < 1 is std::invalid_argument.
std::string pbkdf2_fingerprint(std::string_view raw, long iterations);

}  // namespace cbench
