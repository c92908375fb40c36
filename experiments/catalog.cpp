// The seven experiments of DESIGN §2, each as: a task kind (decode input, call the workload,
// encode the result), a task builder, and the lines and JSON its results print as.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "executors/async_task.hpp"
#include "executors/wire.hpp"
#include "workloads/books.hpp"
#include "workloads/counter_async.hpp"
#include "workloads/eigenvalue.hpp"
#include "workloads/fingerprint.hpp"
#include "workloads/http.hpp"
#include "workloads/http_async.hpp"
#include "workloads/trivial.hpp"
#include "workloads/word_count.hpp"

namespace cbench {
namespace {

std::shared_ptr<const Bytes> share(Bytes bytes) {
  return std::make_shared<const Bytes>(std::move(bytes));
}

Task make_task(std::string_view kind, std::string name, Bytes input) {
  return Task{&task_kind(kind), std::move(name), share(std::move(input))};
}

// ---- E1 count: the sleeping counter ------------------------------------------------------

struct CountInput {
  long start, end;
  std::chrono::nanoseconds interval;
  NumberSink sink;
};

CountInput decode_count(std::string_view input) {
  wire::Reader in(input);
  CountInput c{in.i64(), in.i64(), std::chrono::nanoseconds(in.i64()), {}};
  if (in.u64() != 0) {
    // One write(2) per number: lines from concurrent counters (threads or processes) never mix.
    c.sink = [](long i) {
      std::string line = std::to_string(i) + "\n";
      [[maybe_unused]] auto n = ::write(STDOUT_FILENO, line.data(), line.size());
    };
  }
  in.expect_done();
  return c;
}

Bytes encode_numbers(const std::vector<long>& numbers) {
  wire::Writer out;
  out.u64(numbers.size());
  for (long n : numbers) out.i64(n);
  return out.take();
}

Bytes run_count(std::string_view input) {
  const CountInput c = decode_count(input);
  return encode_numbers(count(c.start, c.end, c.interval, c.sink));
}

asio::awaitable<Bytes> run_count_async(std::string_view input) {
  const CountInput c = decode_count(input);
  const std::vector<long> numbers = co_await count_async(c.start, c.end, c.interval, c.sink);
  co_return encode_numbers(numbers);
}

std::vector<long> decode_numbers(const Bytes& value) {
  wire::Reader in(value);
  std::vector<long> numbers(in.u64());
  for (long& n : numbers) n = in.i64();
  in.expect_done();
  return numbers;
}

std::vector<Task> count_tasks(const Corpus&, const ExperimentOptions& o) {
  // The original: a worker counts 1..10 while the main thread counts 11..20.
  const long n = o.size.value_or(10);
  auto counter = [&](std::string name, long start) {
    wire::Writer in;
    in.i64(start).i64(start + n).i64(o.interval.count()).u64(o.echo ? 1 : 0);
    return make_task("count", std::move(name), in.take());
  };
  return {counter("worker", 1), counter("main", n + 1)};
}

std::string count_json(const Bytes& value) {
  std::string out = "[";
  for (long n : decode_numbers(value)) out += (out.size() > 1 ? "," : "") + std::to_string(n);
  return out + "]";
}

// ---- E2' wordcount: the most common word of each book ------------------------------------

Bytes run_wordcount(std::string_view input) {
  wire::Reader in(input);
  const std::string_view text = in.str();
  const StopWords stop_words = parse_stop_words(in.str());
  in.expect_done();
  const WordCount result = most_common_word(text, stop_words);
  return wire::Writer().str(result.word).u64(result.count).take();
}

WordCount decode_word_count(const Bytes& value) {
  wire::Reader in(value);
  WordCount result{std::string(in.str()), in.u64()};
  in.expect_done();
  return result;
}

std::vector<Task> wordcount_tasks(const Corpus& corpus, const ExperimentOptions&) {
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(make_task("wordcount", book.name,
                              wire::Writer().str(book.text).str(corpus.stop_words_text).take()));
  }
  return tasks;
}

std::string wordcount_line(const Task& task, const Bytes& value) {
  const WordCount result = decode_word_count(value);
  return "Most common word in " + task.name + " is \"" + result.word + "\" (" +
         std::to_string(result.count) + " appearances)";
}

std::string wordcount_json(const Bytes& value) {
  const WordCount result = decode_word_count(value);
  return "{\"word\":" + json::quote(result.word) + ",\"count\":" + std::to_string(result.count) +
         "}";
}

// ---- E2 wordcount-http: the most common word of each book, downloaded ----------------------

struct HttpInput {
  std::string url;
  StopWords stop_words;
  HttpOptions options;
};

HttpInput decode_http(std::string_view input) {
  wire::Reader in(input);
  HttpInput h;
  h.url = std::string(in.str());
  h.stop_words = parse_stop_words(in.str());
  h.options.connect_timeout = std::chrono::milliseconds(in.i64());
  h.options.total_timeout = std::chrono::milliseconds(in.i64());
  h.options.keep_alive = in.u64() != 0;
  in.expect_done();
  return h;
}

// The body is counted as it streams in, whole lines at a time, as the original's
// `for line in response` does; nothing is buffered whole first.
struct StreamingCount {
  WordCounter counter;
  LineBatcher lines{[this](std::string_view text) { counter.add(text); }};
  BodySink sink() {
    return [this](std::string_view piece) { lines.feed(piece); };
  }
  Bytes finish(const StopWords& stop_words) {
    lines.finish();
    const WordCount result = counter.most_common(stop_words);
    return wire::Writer().str(result.word).u64(result.count).take();
  }
};

Bytes run_wordcount_http(std::string_view input) {
  const HttpInput h = decode_http(input);
  StreamingCount count;
  http_get(h.url, h.options, count.sink());
  return count.finish(h.stop_words);
}

asio::awaitable<Bytes> run_wordcount_http_async(std::string_view input) {
  const HttpInput h = decode_http(input);
  StreamingCount count;
  co_await http_get_async(h.url, h.options, count.sink());
  co_return count.finish(h.stop_words);
}

std::vector<Task> wordcount_http_tasks(const Corpus& corpus, const ExperimentOptions& o) {
  if (o.books_url.empty()) {
    throw std::invalid_argument(
        "wordcount-http needs a server: the fixture server (started by default) or --books-url");
  }
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    wire::Writer in;
    in.str(book_url(o.books_url, book.name)).str(corpus.stop_words_text);
    in.i64(o.http.connect_timeout.count()).i64(o.http.total_timeout.count()).u64(o.http.keep_alive ? 1 : 0);
    tasks.push_back(make_task("wordcount-http", book.name, in.take()));
  }
  return tasks;
}

// ---- E3 read: each book from the local disk ----------------------------------------------

Bytes run_read(std::string_view input) {
  wire::Reader in(input);
  const std::string_view path = in.str();
  in.expect_done();
  return read_book(std::filesystem::path(path));
}

// A generated corpus lives in memory; to read it from disk it is written once to the scratch
// folder, under its checksum so that a stale copy is never read.
std::filesystem::path books_on_disk(const Corpus& corpus, const ExperimentOptions& o) {
  if (corpus.kind != CorpusKind::generated) return std::filesystem::path(corpus.origin) / "books";
  auto base = o.scratch.empty() ? std::filesystem::temp_directory_path() : o.scratch;
  auto dir = base / ("cbench-corpus-" + corpus.checksum.substr(0, 16)) / "books";
  std::filesystem::create_directories(dir);
  for (const auto& book : corpus.books) {
    auto path = dir / (book.name + ".txt");
    std::error_code ignored;
    if (std::filesystem::file_size(path, ignored) == book.text.size()) continue;
    auto partial = path;
    partial += ".partial";
    if (FILE* f = std::fopen(partial.c_str(), "wb")) {
      bool ok = std::fwrite(book.text.data(), 1, book.text.size(), f) == book.text.size();
      ok = std::fclose(f) == 0 && ok;
      if (ok) std::filesystem::rename(partial, path);
    }
    if (std::filesystem::file_size(path, ignored) != book.text.size()) {
      throw std::runtime_error("cannot write the generated book " + path.string());
    }
  }
  return dir;
}

std::vector<Task> read_tasks(const Corpus& corpus, const ExperimentOptions& o) {
  const auto dir = books_on_disk(corpus, o);
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(make_task("read", book.name, wire::Writer().str((dir / (book.name + ".txt")).string()).take()));
  }
  return tasks;
}

std::string read_line(const Task& task, const Bytes& value) {
  return "Read " + task.name + ": " + std::to_string(value.size()) + " bytes";
}

std::string read_json(const Bytes& value) {
  return "{\"bytes\":" + std::to_string(value.size()) + ",\"sha256\":" +
         json::quote(sha256_hex(value)) + "}";
}

// ---- E4 pbkdf2: the fingerprint of each book ---------------------------------------------

Bytes run_pbkdf2(std::string_view input) {
  wire::Reader in(input);
  const std::string_view text = in.str();
  const long iterations = in.i64();
  in.expect_done();
  return pbkdf2_fingerprint(text, iterations);
}

std::vector<Task> pbkdf2_tasks(const Corpus& corpus, const ExperimentOptions& o) {
  if (o.iterations < 1) {
    throw std::invalid_argument("PBKDF2 needs at least 1 iteration, got " +
                                std::to_string(o.iterations));
  }
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(make_task("pbkdf2", book.name, wire::Writer().str(book.text).i64(o.iterations).take()));
  }
  return tasks;
}

std::string pbkdf2_line(const Task& task, const Bytes& value) {
  return "Fingerprint for " + task.name + " is \"" + value + "\"";
}

std::string pbkdf2_json(const Bytes& value) { return json::quote(value); }

// ---- E5 eigen: the largest eigenvalue of random integer matrices -------------------------

Bytes run_eigen(std::string_view input) {
  wire::Reader in(input);
  const auto seed = in.u64();
  const long n = in.i64(), bottom = in.i64(), top = in.i64();
  in.expect_done();
  const auto value = largest_eigenvalue(seed, n, bottom, top);
  return wire::Writer().f64(value.real()).f64(value.imag()).take();
}

std::pair<double, double> decode_complex(const Bytes& value) {
  wire::Reader in(value);
  std::pair<double, double> v{in.f64(), in.f64()};
  in.expect_done();
  return v;
}

std::vector<Task> eigen_tasks(const Corpus&, const ExperimentOptions& o) {
  const long n = o.size.value_or(1000);
  if (n < 1) throw std::invalid_argument("--size must be at least 1, got " + std::to_string(n));
  if (o.top <= o.bottom) throw std::invalid_argument("matrix entries need bottom < top");
  if (o.matrices < 1) throw std::invalid_argument("at least one matrix is needed");
  std::vector<Task> tasks;
  for (long i = 0; i < o.matrices; ++i) {
    tasks.push_back(make_task("eigen", "matrix " + std::to_string(i),
                              wire::Writer().u64(static_cast<std::uint64_t>(i)).i64(n).i64(o.bottom).i64(o.top).take()));
  }
  return tasks;
}

std::string format_complex(double re, double im) {
  char text[96];
  if (im == 0) {
    std::snprintf(text, sizeof text, "%.6f", re);
  } else {
    std::snprintf(text, sizeof text, "%.6f%+.6fj", re, im);
  }
  return text;
}

std::string eigen_line(const Task& task, const Bytes& value) {
  auto [re, im] = decode_complex(value);
  return "Largest eigenvalue of " + task.name + " is " + format_complex(re, im);
}

std::string eigen_json(const Bytes& value) {
  auto [re, im] = decode_complex(value);
  return "{\"real\":" + json::number(re) + ",\"imag\":" + json::number(im) + "}";
}

// ---- E6 double: the trivial map x -> 2x --------------------------------------------------

Bytes run_double(std::string_view input) {
  wire::Reader in(input);
  const long x = in.i64();
  in.expect_done();
  return wire::Writer().i64(double_it(x)).take();
}

long decode_long(const Bytes& value) {
  wire::Reader in(value);
  const long v = in.i64();
  in.expect_done();
  return v;
}

std::vector<Task> double_tasks(const Corpus&, const ExperimentOptions& o) {
  const long n = o.size.value_or(10);
  if (n < 1) throw std::invalid_argument("--size must be at least 1, got " + std::to_string(n));
  std::vector<Task> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (long x = 0; x < n; ++x) {
    tasks.push_back(make_task("double", "x=" + std::to_string(x), wire::Writer().i64(x).take()));
  }
  return tasks;
}

std::string double_line(const Task& task, const Bytes& value) {
  return "2 * " + task.name.substr(2) + " = " + std::to_string(decode_long(value));
}

std::string double_json(const Bytes& value) { return std::to_string(decode_long(value)); }

// ---- E7 wordfreq: map-reduce word frequencies over the whole corpus ----------------------

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

std::vector<Task> wordfreq_tasks(const Corpus& corpus, const ExperimentOptions& o) {
  if (o.chunks < 1) throw std::invalid_argument("--chunks must be at least 1");
  const std::string text = whole_corpus(corpus);
  std::vector<Task> tasks;
  int i = 0;
  for (std::string_view chunk : split_at_whitespace(text, o.chunks)) {
    tasks.push_back(make_task("wordfreq", "chunk " + std::to_string(i++), wire::Writer().str(chunk).take()));
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
  return "Counted " + task.name + ": " + std::to_string(t.words) + " words, " + std::to_string(t.distinct) +
         " distinct";
}

std::string wordfreq_json(const Bytes& value) {
  const FrequencyTotals t = totals_of(value);
  return "{\"words\":" + std::to_string(t.words) + ",\"distinct\":" + std::to_string(t.distinct) + "}";
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

// ---- the catalogue -----------------------------------------------------------------------

constexpr TaskKind kKinds[] = {
    {"count", run_count},   {"wordcount", run_wordcount}, {"wordcount-http", run_wordcount_http},
    {"read", run_read},
    {"pbkdf2", run_pbkdf2}, {"eigen", run_eigen},         {"double", run_double},
    {"wordfreq", run_wordfreq},
};

// Registered during static initialisation, before main: a fork-server worker forked at the top
// of main, or an MPI engine starting the same binary, knows every kind before it runs one.
[[maybe_unused]] const bool kRegistered = [] {
  for (const auto& kind : kKinds) register_task_kind(kind);
  register_async_form("count", run_count_async);
  register_async_form("wordcount-http", run_wordcount_http_async);
  return true;
}();

const std::vector<Experiment>& catalogue() {
  static const std::vector<Experiment> all = [] {
    return std::vector<Experiment>{
        {"count", "E1", "a worker counts 1..10 while main counts 11..20, sleeping between numbers",
         WorkKind::waiting, kUsesSize | kUsesInterval, 10, count_tasks, nullptr, count_json},
        {"wordcount", "E2'", "most common word of each book, read from memory",
         WorkKind::cpu, kUsesCorpus, 0, wordcount_tasks, wordcount_line, wordcount_json},
        {"wordcount-http", "E2", "most common word of each book, downloaded over HTTP",
         WorkKind::waiting, kUsesCorpus | kUsesHttp, 0, wordcount_http_tasks, wordcount_line,
         wordcount_json},
        {"read", "E3", "read each book from the local disk", WorkKind::waiting, kUsesCorpus, 0,
         read_tasks, read_line, read_json},
        {"pbkdf2", "E4", "PBKDF2-HMAC-SHA512 fingerprint of each book", WorkKind::cpu,
         kUsesCorpus | kUsesIterations, 0, pbkdf2_tasks, pbkdf2_line, pbkdf2_json},
        {"eigen", "E5", "largest eigenvalue of 8 random integer matrices", WorkKind::cpu,
         kUsesSize | kUsesMatrixRange, 1000, eigen_tasks, eigen_line, eigen_json},
        {"double", "E6", "trivial map x -> 2x over 0..N-1 (dispatch overhead)", WorkKind::cpu,
         kUsesSize, 10, double_tasks, double_line, double_json},
        {"wordfreq", "E7", "word frequencies of the whole corpus, counted in chunks and merged",
         WorkKind::cpu, kUsesCorpus | kUsesChunks, 0, wordfreq_tasks, wordfreq_line,
         wordfreq_json, wordfreq_reduce, wordfreq_summary},
    };
  }();
  return all;
}

}  // namespace

std::span<const Experiment> experiments() { return catalogue(); }

const Experiment& find_experiment(std::string_view name) {
  std::string names;
  for (const auto& e : catalogue()) {
    if (e.name == name) return e;
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  throw std::invalid_argument("unknown workload \"" + std::string(name) + "\" (known: " + names +
                              ")");
}

}  // namespace cbench
