// An enum's names, written once: a table of {value, name} pairs beside the enum, and the two
// lookups every to_string and every parser of the names use.
//
//   inline constexpr EnumNames<Fate, 4> kFateNames{{{Fate::ok, "ok"}, ...}};
//   std::string_view to_string(Fate f) { return name_of(kFateNames, f); }
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cbench {

template <typename E, std::size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

// The value's name ("?" for a value outside the table).
template <typename E, std::size_t N>
constexpr std::string_view name_of(const EnumNames<E, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "?";
}

// The value of that name, or none.
template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const EnumNames<E, N>& names, std::string_view name) {
  for (const auto& [v, n] : names) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// "a, b, c": every name, in the table's order, for messages that list what is valid.
template <typename E, std::size_t N>
std::string names_list(const EnumNames<E, N>& names) {
  std::string out;
  for (const auto& [v, n] : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace cbench
