// E3 read: each book from the local disk, from the page cache and (the benchmarks' cold-cache
// rows) with the books dropped from it before each run: waiting work on I/O.
#include <cstdio>
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "workloads/books.hpp"
#include "workloads/fingerprint.hpp"

namespace cbench {
namespace {

Bytes run_read(std::string_view input) {
  wire::Reader in(input);
  const std::string_view path = in.str();
  in.expect_done();
  return read_book(std::filesystem::path(path));
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"read", run_read}});

// A generated corpus lives in memory; to read it from disk it is written once to the scratch
// folder, under its checksum so that a stale copy is never read.
std::filesystem::path books_on_disk(const Corpus& corpus, const Options& o) {
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

std::vector<Task> read_tasks(const Corpus& corpus, const Options& o) {
  const auto dir = books_on_disk(corpus, o);
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    const std::string path = (dir / (book.name + ".txt")).string();
    tasks.push_back(make_task("read", book.name, wire::Writer().str(path).take()));
  }
  return tasks;
}

std::string read_file_of(const Task& task) {
  return std::string(wire::Reader(*task.input).str());
}

std::string read_line(const Task& task, const Bytes& value) {
  return "Read " + task.name + ": " + std::to_string(value.size()) + " bytes";
}

std::string read_json(const Bytes& value) {
  return "{\"bytes\":" + std::to_string(value.size()) +
         ",\"sha256\":" + json::quote(sha256_hex(value)) + "}";
}

}  // namespace

CBENCH_REGISTER_EXPERIMENT(read) = {
    .name = "read",
    .id = "E3",
    .summary = "read each book from the local disk",
    .work = WorkKind::waiting,
    .uses_corpus = true,
    .make_tasks = read_tasks,
    .task_line = read_line,
    .task_json = read_json,
    .bytes = result_bytes,
    .file_of = read_file_of,
};

}  // namespace cbench
