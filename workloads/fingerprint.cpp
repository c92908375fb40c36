#include "workloads/fingerprint.hpp"

#include <openssl/evp.h>

#include <array>
#include <climits>
#include <stdexcept>

#include "workloads/hex.hpp"
#include "workloads/unicode.hpp"

namespace cbench {

std::string python_text_bytes(std::string_view raw) {
  unicode::check_utf8(raw);
  if (raw.find('\r') == std::string_view::npos) return std::string(raw);
  std::string text;
  text.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      text += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      text += raw[i];
    }
  }
  return text;
}

std::string pbkdf2_fingerprint(std::string_view raw, long iterations) {
  if (iterations < 1) {
    throw std::invalid_argument("PBKDF2 needs at least 1 iteration, got " +
                                std::to_string(iterations));
  }
  if (iterations > INT_MAX) throw std::invalid_argument("PBKDF2 iterations above INT_MAX");
  const std::string password = python_text_bytes(raw);
  static constexpr std::string_view kSalt = "salt";
  std::array<unsigned char, 64> key{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(kSalt.data()),
                        static_cast<int>(kSalt.size()), static_cast<int>(iterations), EVP_sha512(),
                        static_cast<int>(key.size()), key.data()) != 1) {
    throw std::runtime_error("OpenSSL PKCS5_PBKDF2_HMAC failed");
  }
  return to_hex(key.data(), key.size());
}

}  // namespace cbench
