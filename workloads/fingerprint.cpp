#include "workloads/fingerprint.hpp"

#include <openssl/evp.h>

#include <array>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "workloads/hex.hpp"
#include "workloads/unicode.hpp"

namespace cbench {

namespace {

// Hands python_text_bytes(raw) to `piece` in order, as views of raw and single newlines, without
// building it.
template <typename Piece>
void text_pieces(std::string_view raw, Piece&& piece) {
  std::size_t from = 0;
  for (std::size_t r = raw.find('\r'); r != std::string_view::npos; r = raw.find('\r', from)) {
    if (r > from) piece(raw.substr(from, r - from));
    piece(std::string_view("\n"));
    from = r + 1 < raw.size() && raw[r + 1] == '\n' ? r + 2 : r + 1;
  }
  if (from < raw.size()) piece(raw.substr(from));
}

// SHA-512's block: HMAC uses a longer key only through its digest (RFC 2104), so a password longer
// than this is hashed in pieces here rather than made whole first.
constexpr std::size_t kBlock = 128;

// SHA-512 of python_text_bytes(raw), fed through a small buffer.
std::array<unsigned char, 64> text_digest(std::string_view raw) {
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  } c;
  if (c.ctx == nullptr || EVP_DigestInit_ex(c.ctx, EVP_sha512(), nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-512 could not start");
  std::array<char, 64 * 1024> buffer;
  std::size_t held = 0;
  auto flush = [&] {
    if (held > 0 && EVP_DigestUpdate(c.ctx, buffer.data(), held) != 1)
      throw std::runtime_error("OpenSSL SHA-512 failed");
    held = 0;
  };
  text_pieces(raw, [&](std::string_view piece) {
    if (piece.size() >= buffer.size()) {
      flush();
      if (EVP_DigestUpdate(c.ctx, piece.data(), piece.size()) != 1)
        throw std::runtime_error("OpenSSL SHA-512 failed");
      return;
    }
    if (held + piece.size() > buffer.size()) flush();
    std::memcpy(buffer.data() + held, piece.data(), piece.size());
    held += piece.size();
  });
  flush();
  std::array<unsigned char, 64> digest{};
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(c.ctx, digest.data(), &size) != 1 || size != digest.size())
    throw std::runtime_error("OpenSSL SHA-512 failed");
  return digest;
}

}  // namespace

std::string python_text_bytes(std::string_view raw) {
  unicode::check_utf8(raw);
  std::string text;
  text.reserve(raw.size());
  text_pieces(raw, [&](std::string_view piece) { text.append(piece); });
  return text;
}

std::string pbkdf2_fingerprint(std::string_view raw, long iterations) {
  if (iterations < 1) {
    throw std::invalid_argument("PBKDF2 needs at least 1 iteration, got " +
                                std::to_string(iterations));
  }
  if (iterations > INT_MAX) throw std::invalid_argument("PBKDF2 iterations above INT_MAX");
  // A raw text of more than two blocks is a password of more than one ("\r\n" at most halves
  // it): HMAC would key with its digest, which is taken here without a copy of the book.
  unicode::check_utf8(raw);
  std::string password;
  std::array<unsigned char, 64> digest{};
  if (raw.size() > 2 * kBlock) {
    digest = text_digest(raw);
    password.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  } else {
    password = python_text_bytes(raw);
  }
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
