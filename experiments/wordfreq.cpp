// E7 wordfreq: map-reduce word frequencies over the whole corpus: the books joined and cut into
// chunks at white space, each chunk's table counted by a task, the tables merged on the caller.
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
  WordFrequencies frequencies(in.u64());
  for (auto& entry : frequencies) {
    entry.word = std::string(in.str());
    entry.count = in.u64();
  }
  in.expect_done();
  return frequencies;
}

Bytes run_wordfreq(std::string_view input) {
  wire::Reader in(input);
  const std::string_view chunk = in.str();
  in.expect_done();
  return encode_frequencies(word_frequencies(chunk));
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"wordfreq", run_wordfreq}});

// The books in canonical order joined by a newline, so that the last word of one book and the
// first of the next stay two words.
std::string whole_corpus(const Corpus& corpus) {
  std::string text;
  text.reserve(corpus.total_bytes() + corpus.books.size());
  for (const auto& book : corpus.books) {
    if (!text.empty()) text += '\n';
    text += book.text;
  }
  return text;
}

std::vector<Task> wordfreq_tasks(const Corpus& corpus, const Options& o) {
  const long chunks = o.integer("chunks");
  if (chunks < 1) throw std::invalid_argument("--chunks must be at least 1");
  const std::string text = whole_corpus(corpus);
  std::vector<Task> tasks;
  int i = 0;
  for (std::string_view chunk : split_at_whitespace(text, static_cast<int>(chunks))) {
    tasks.push_back(
        make_task("wordfreq", "chunk " + std::to_string(i++), wire::Writer().str(chunk).take()));
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
