// E7 wordfreq: map-reduce word frequencies over the whole corpus: the books joined and cut into
// chunks at white space, each chunk's table counted by a task, the tables merged on the caller.
#include <algorithm>
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "workloads/word_count.hpp"

namespace cbench {
namespace {

Bytes encode_frequencies(const WordFrequencies& frequencies) {
  wire::Writer out;
  out.u64(frequencies.size());
  for (const auto& [word, n] : frequencies) out.str(word).u64(n);
  return out.take();
}

WordFrequencies decode_frequencies(const Bytes& value) {
  wire::Reader in(value);
  WordFrequencies frequencies(in.count(2 * sizeof(std::uint64_t)));  // a length and a count
  for (auto& entry : frequencies) {
    entry.word = std::string(in.str());
    entry.count = in.u64();
  }
  in.expect_done();
  return frequencies;
}

// No input; the views: the chunk's pieces, each a book's bytes or part of them, so that the chunk
// is the pieces joined by newlines (docs/design.md, "Memory near the corpus").
Bytes run_wordfreq(std::string_view input, std::span<const std::string_view> views) {
  if (!input.empty()) throw std::invalid_argument("wordfreq takes no input but its views");
  return encode_frequencies(word_frequencies(views));
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{.name = "wordfreq", .run_views = run_wordfreq}});

// The whole corpus: the books in canonical order joined by a newline, so that the last word of
// one book and the first of the next stay two words. It is never made in one piece: a chunk is a
// list of views of the books, which a newline between two adjacent ones joins.
class JoinedBooks {
 public:
  explicit JoinedBooks(const Corpus& corpus) {
    for (const auto& book : corpus.books) {
      if (size_ > 0) pieces_.push_back({size_++, "\n", true});  // after a non-empty start
      pieces_.push_back({size_, book.text, false});
      size_ += book.text.size();
    }
  }

  std::size_t size() const { return size_; }

  unsigned char at(std::size_t i) const {
    const Piece& p = piece_of(i);
    return static_cast<unsigned char>(p.text[i - p.offset]);
  }

  // The books' bytes in [begin, end), as views; the separators are left out (white space: they
  // end a word as the end of a view does).
  std::vector<std::string_view> views(std::size_t begin, std::size_t end) const {
    std::vector<std::string_view> out;
    for (const Piece& p : pieces_) {
      const std::size_t from = std::max(begin, p.offset);
      const std::size_t to = std::min(end, p.offset + p.text.size());
      if (from < to && !p.separator) out.push_back(p.text.substr(from - p.offset, to - from));
    }
    return out;
  }

 private:
  struct Piece {
    std::size_t offset;
    std::string_view text;
    bool separator;
  };
  const Piece& piece_of(std::size_t i) const {
    auto it = std::upper_bound(pieces_.begin(), pieces_.end(), i,
                               [](std::size_t at, const Piece& p) { return at < p.offset; });
    return *(it - 1);
  }
  std::vector<Piece> pieces_;
  std::size_t size_ = 0;
};

std::vector<Task> wordfreq_tasks(const Corpus& corpus, const Options& o) {
  const long chunks = o.integer("chunks");
  if (chunks < 1) throw std::invalid_argument("--chunks must be at least 1");
  const JoinedBooks text(corpus);
  std::vector<std::size_t> bounds = whitespace_cuts(text.size(), static_cast<int>(chunks),
                                                    [&](std::size_t i) { return text.at(i); });
  bounds.insert(bounds.begin(), 0);
  bounds.push_back(text.size());
  std::vector<Task> tasks;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    tasks.push_back(make_task("wordfreq", "chunk " + std::to_string(i), {},
                              {text.views(bounds[i], bounds[i + 1])}));
  }
  return tasks;
}

// A chunk's table, told in two numbers: words counted and distinct words.
struct FrequencyTotals {
  std::uint64_t words = 0;
  std::size_t distinct = 0;
};

FrequencyTotals totals_of(const Bytes& value) {
  const auto frequencies = decode_frequencies(value);
  FrequencyTotals totals{0, frequencies.size()};
  for (const auto& entry : frequencies) totals.words += entry.count;
  return totals;
}

std::string wordfreq_line(const Task& task, const Bytes& value) {
  const FrequencyTotals t = totals_of(value);
  return "Counted " + task.name + ": " + std::to_string(t.words) + " words, " +
         std::to_string(t.distinct) + " distinct";
}

std::string wordfreq_json(const Bytes& value) {
  const FrequencyTotals t = totals_of(value);
  return "{\"words\":" + std::to_string(t.words) + ",\"distinct\":" + std::to_string(t.distinct) +
         "}";
}

Bytes wordfreq_reduce(std::span<const Bytes> values) {
  WordFrequencies total;
  for (const auto& value : values) total = merge(total, decode_frequencies(value));
  return encode_frequencies(total);
}

std::vector<std::string> wordfreq_summary(const Bytes& reduced) {
  const WordFrequencies total = decode_frequencies(reduced);
  std::vector<std::string> lines{"Most frequent words in the corpus (" +
                                 std::to_string(total.size()) + " distinct):"};
  int rank = 1;
  for (const auto& [word, n] : top_words(total, 10)) {
    lines.push_back("  " + std::to_string(rank++) + ". \"" + word + "\" (" + std::to_string(n) +
                    " appearances)");
  }
  return lines;
}

constexpr OptionSpec kOptions[] = {
    {.name = "chunks",
     .placeholder = "N",
     .help = "pieces the corpus is cut into",
     .fallback = 16,
     .min = 1,
     .max = 1'000'000},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(wordfreq) = {
    .name = "wordfreq",
    .id = "E7",
    .summary = "word frequencies of the whole corpus, counted in chunks and merged",
    .work = WorkKind::cpu,
    .uses_corpus = true,
    .options = kOptions,
    .make_tasks = wordfreq_tasks,
    .task_line = wordfreq_line,
    .task_json = wordfreq_json,
    .reduce = wordfreq_reduce,
    .summary_lines = wordfreq_summary,
    .bytes = input_bytes,
};

}  // namespace cbench
