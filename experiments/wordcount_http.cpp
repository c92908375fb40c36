// E2 wordcount-http: the most common word of each book, downloaded from a server (by default the
// fixture server, a process of its own): waiting work, where the model's way of waiting decides.
#include <cmath>
#include <stdexcept>

#include "experiments/word_count_result.hpp"
#include "workloads/books.hpp"
#include "workloads/http.hpp"
#include "workloads/http_async.hpp"

namespace cbench {
namespace {

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
    return word_count_result::encode(counter.most_common(stop_words));
  }
};

Bytes run_wordcount_http(std::string_view input) {
  const HttpInput h = decode_http(input);
  StreamingCount count;
  http_get(h.url, h.options, count.sink());
  return count.finish(h.stop_words);
}

Async<Bytes> run_wordcount_http_async(std::string_view input) {
  const HttpInput h = decode_http(input);
  StreamingCount count;
  co_await http_get_async(h.url, h.options, count.sink());
  co_return count.finish(h.stop_words);
}

[[maybe_unused]] const bool kKinds = register_task_kinds(
    {{"wordcount-http", run_wordcount_http}}, {{"wordcount-http", run_wordcount_http_async}});

std::vector<Task> wordcount_http_tasks(const Corpus& corpus, const Options& o) {
  const std::string& books_url = o.text("books-url");
  if (books_url.empty()) {
    throw std::invalid_argument(
        "wordcount-http needs a server: the fixture server (started by default) or --books-url");
  }
  HttpOptions http;
  http.total_timeout = std::chrono::milliseconds(std::llround(o.seconds("timeout") * 1000));
  http.keep_alive = o.flag("keep-alive");
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    wire::Writer in;
    in.str(book_url(books_url, book.name)).str(corpus.stop_words_text);
    in.i64(http.connect_timeout.count()).i64(http.total_timeout.count());
    in.u64(http.keep_alive ? 1 : 0);
    tasks.push_back(make_task("wordcount-http", book.name, in.take()));
  }
  return tasks;
}

constexpr OptionSpec kOptions[] = {
    {.name = "books-url",
     .kind = OptionKind::text,
     .placeholder = "TEMPLATE",
     .help = "fetch from TEMPLATE ({} = URL-encoded book name) instead of starting the fixture "
             "server"},
    {.name = "keep-alive",
     .kind = OptionKind::flag,
     .help = "reuse connections (default: a new one per book)"},
    // A stalled download ends its task, never hangs the run: longer in the benchmarks, whose
    // shaped profiles are slower.
    {.name = "timeout",
     .kind = OptionKind::seconds,
     .placeholder = "SECONDS",
     .help = "give up on a download after this long",
     .fallback = 60,
     .min = 0,
     .max = 86400,
     .bench = PresetValues{.smoke = 120, .quick = 120, .standard = 120, .seed = 120, .full = 120}},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(wordcount_http) = {
    .name = "wordcount-http",
    .id = "E2",
    .summary = "most common word of each book, downloaded over HTTP",
    .work = WorkKind::waiting,
    .uses_corpus = true,
    .server_url_option = "books-url",
    .options = kOptions,
    .make_tasks = wordcount_http_tasks,
    .task_line = word_count_result::line,
    .task_json = word_count_result::json,
    .bytes = input_bytes,
};

}  // namespace cbench
