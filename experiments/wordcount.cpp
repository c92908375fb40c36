// E2' wordcount: the most common word of each book, read from memory: CPU work that grows with
// the book's bytes.
#include "experiments/word_count_result.hpp"

namespace cbench {
namespace {

// Input: the stop-word file's text; one view: the book.
Bytes run_wordcount(std::string_view input, std::span<const std::string_view> views) {
  if (views.size() != 1) throw std::invalid_argument("wordcount reads one book");
  return word_count_result::encode(most_common_word(views[0], parse_stop_words(input)));
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{.name = "wordcount", .run_views = run_wordcount}});

std::vector<Task> wordcount_tasks(const Corpus& corpus, const Options&) {
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(make_task("wordcount", book.name, corpus.stop_words_text, {{book.text}}));
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
