// The word-scan kernels against each other (workloads/word_count.hpp): every kernel this CPU
// runs counts the input, and each must give the scalar kernel's answer byte for byte — the same
// frequencies, the same most common word, or the same error at the same offset. The input is
// counted whole and as if it sat at the end of a page-aligned buffer (words straddling the
// kernels' block and chunk edges come from the fuzzer's lengths).
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/fuzz.hpp"
#include "workloads/unicode.hpp"
#include "workloads/word_count.hpp"

using namespace cbench;

namespace {

// What one kernel makes of a text: its frequencies and most common word, or its error.
std::string outcome(std::string_view text) {
  std::string out;
  try {
    for (const auto& w : word_frequencies(text)) {
      out += w.word;
      out += '\0';
      out += std::to_string(w.count);
      out += '\n';
    }
  } catch (const std::exception& e) {
    out += "frequencies: ";
    out += e.what();
  }
  try {
    const WordCount top = most_common_word(text, {"the", "and"});
    out += "top: " + top.word + " " + std::to_string(top.count);
  } catch (const std::exception& e) {
    out += "top: ";
    out += e.what();
  }
  return out;
}

// The text copied to end where a page ends, with an unreadable page after it: a kernel that reads
// past the text's end faults there.
class AtPageEnd {
 public:
  explicit AtPageEnd(std::string_view text) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    size_ = (text.size() + page - 1) / page * page + page;
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fuzz::broken("mmap failed");
    base_ = static_cast<char*>(p);
    char* guard = base_ + size_ - page;
    if (::mprotect(guard, page, PROT_NONE) != 0) fuzz::broken("mprotect failed");
    if (!text.empty()) std::memcpy(guard - text.size(), text.data(), text.size());
    text_ = std::string_view(guard - text.size(), text.size());
  }
  ~AtPageEnd() { ::munmap(base_, size_); }
  AtPageEnd(const AtPageEnd&) = delete;
  AtPageEnd& operator=(const AtPageEnd&) = delete;
  std::string_view text() const { return text_; }

 private:
  char* base_ = nullptr;
  std::size_t size_ = 0;
  std::string_view text_;
};

}  // namespace

CBENCH_FUZZ_TARGET {
  static const std::vector<std::string_view> kernels = word_scan_kernels();
  const std::string_view text = fuzz::bytes(data, size);
  force_word_scan_kernel("scalar");
  const std::string expected = outcome(text);
  fuzz::check(outcome(AtPageEnd(text).text()) == expected, "the scalar kernel at a page's end");
  for (const auto kernel : kernels) {
    if (kernel == "scalar") continue;
    force_word_scan_kernel(kernel);
    const AtPageEnd at_end(text);
    if (outcome(text) != expected || outcome(at_end.text()) != expected) {
      std::fprintf(stderr, "fuzz: the %.*s kernel disagrees with the scalar one\n",
                   static_cast<int>(kernel.size()), kernel.data());
      fuzz::broken("kernels disagree");
    }
  }
  force_word_scan_kernel("");
  return 0;
}
