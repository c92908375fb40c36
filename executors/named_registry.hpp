// A list of descriptors found by name — the executors', the experiments' — with its built-in
// entries (from the build's generated list) first, then any a program adds at run time. One
// piece of code for both registries. Internal to cbench's libraries.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cbench {

template <typename T>  // T has a `name`
class NamedRegistry {
 public:
  explicit NamedRegistry(std::vector<const T*> builtins) : all_(std::move(builtins)) {}

  std::span<const T* const> all() const { return all_; }

  const T* find(std::string_view name) const {
    for (const T* item : all_) {
      if (item->name == name) return item;
    }
    return nullptr;
  }

  // "a, b, c": every name, for messages that list what is valid.
  std::string names() const {
    std::string out;
    for (const T* item : all_) out += (out.empty() ? "" : ", ") + std::string(item->name);
    return out;
  }

  // Adds a copy; a name already taken is std::logic_error saying `what` it is.
  void add(const T& item, std::string_view what) {
    std::lock_guard lock(mutex_);
    if (find(item.name) != nullptr) {
      throw std::logic_error(std::string(what) + " \"" + std::string(item.name) +
                             "\" registered twice");
    }
    added_.push_back(std::make_unique<T>(item));
    all_.push_back(added_.back().get());
  }

 private:
  std::mutex mutex_;
  std::vector<const T*> all_;
  std::vector<std::unique_ptr<T>> added_;
};

}  // namespace cbench
