// E2' wordcount: the most common word of each book, read from memory: CPU work that grows with
// the book's bytes.
#include "experiments/word_count_result.hpp"

namespace cbench {
namespace {

Bytes run_wordcount(std::string_view input) {
  wire::Reader in(input);
  const std::string_view text = in.str();
  const StopWords stop_words = parse_stop_words(in.str());
  in.expect_done();
  return word_count_result::encode(most_common_word(text, stop_words));
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"wordcount", run_wordcount}});

std::vector<Task> wordcount_tasks(const Corpus& corpus, const Options&) {
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(make_task("wordcount", book.name,
                              wire::Writer().str(book.text).str(corpus.stop_words_text).take()));
  }
  return tasks;
}

}  // namespace

CBENCH_REGISTER_EXPERIMENT(wordcount) = {
    .name = "wordcount",
    .id = "E2'",
    .summary = "most common word of each book, read from memory",
    .work = WorkKind::cpu,
    .uses_corpus = true,
    .make_tasks = wordcount_tasks,
    .task_line = word_count_result::line,
    .task_json = word_count_result::json,
    .bytes = input_bytes,
};

}  // namespace cbench
