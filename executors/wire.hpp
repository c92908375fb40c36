// A small binary encoding for task inputs and results. Tasks are described as data so that the
// same description serves a thread, a forked worker process and an MPI rank on another host;
// this is the format they travel in. Integers are little-endian fixed width, strings are
// length-prefixed, and a reader that runs past the end throws instead of reading garbage.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace cbench::wire {

class Writer {
 public:
  Writer& u64(std::uint64_t v) { return raw(&v, sizeof v); }
  Writer& i64(std::int64_t v) { return raw(&v, sizeof v); }
  Writer& f64(double v) { return raw(&v, sizeof v); }
  Writer& str(std::string_view s) {
    u64(s.size());
    bytes_.append(s.data(), s.size());
    return *this;
  }
  std::string take() { return std::move(bytes_); }
  const std::string& bytes() const { return bytes_; }

 private:
  static_assert(std::endian::native == std::endian::little, "wire format assumes little-endian");
  Writer& raw(const void* p, std::size_t n) {
    bytes_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  double f64() { return fixed<double>(); }
  // A count of items that follow, each taking at least `least` bytes: more than the bytes left
  // can hold is an error, before anything is allocated for them.
  std::uint64_t count(std::size_t least) {
    const auto n = u64();
    if (n > rest_.size() / least) throw std::runtime_error("wire: a count runs past the end");
    return n;
  }
  // A view into the reader's bytes: valid as long as they are.
  std::string_view str() {
    auto size = u64();
    if (size > rest_.size()) throw std::runtime_error("wire: string runs past the end");
    return raw(size);
  }
  // The next n bytes as they are: a view, as str()'s.
  std::string_view raw(std::uint64_t n) {
    if (n > rest_.size()) throw std::runtime_error("wire: bytes run past the end");
    auto s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  std::size_t left() const { return rest_.size(); }
  bool done() const { return rest_.empty(); }
  // Every decoder ends with this, so that trailing garbage is an error too.
  void expect_done() const {
    if (!rest_.empty()) throw std::runtime_error("wire: unexpected trailing bytes");
  }

 private:
  template <typename T>
  T fixed() {
    static_assert(std::is_trivially_copyable_v<T>);
    if (rest_.size() < sizeof(T)) throw std::runtime_error("wire: value runs past the end");
    T v;
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
  }
  std::string_view rest_;
};

}  // namespace cbench::wire
