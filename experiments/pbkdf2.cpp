// E4 pbkdf2: the PBKDF2-HMAC-SHA512 fingerprint of each book, CPU bound. Its cost does not depend
// on the book's size (the password is hashed once), so the benchmarks count no bytes/s.
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "workloads/fingerprint.hpp"

namespace cbench {
namespace {

// Input: the iteration count; one view: the book.
Bytes run_pbkdf2(std::string_view input, std::span<const std::string_view> views) {
  wire::Reader in(input);
  const long iterations = in.i64();
  in.expect_done();
  if (views.size() != 1) throw std::invalid_argument("pbkdf2 reads one book");
  return pbkdf2_fingerprint(views[0], iterations);
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{.name = "pbkdf2", .run_views = run_pbkdf2}});

std::vector<Task> pbkdf2_tasks(const Corpus& corpus, const Options& o) {
  const long iterations = o.integer("iterations");
  if (iterations < 1) {
    throw std::invalid_argument("PBKDF2 needs at least 1 iteration, got " +
                                std::to_string(iterations));
  }
  std::vector<Task> tasks;
  for (const auto& book : corpus.books) {
    tasks.push_back(
        make_task("pbkdf2", book.name, wire::Writer().i64(iterations).take(), {{book.text}}));
  }
  return tasks;
}

std::string pbkdf2_line(const Task& task, const Bytes& value) {
  return "Fingerprint for " + task.name + " is \"" + value + "\"";
}

std::string pbkdf2_json(const Bytes& value) {
  return json::quote(value);
}

constexpr OptionSpec kOptions[] = {
    // At least 100,000 in the benchmarks (about 50 ms a book): fewer would measure dispatch,
    // not scaling.
    {.name = "iterations",
     .placeholder = "K",
     .help = "PBKDF2 iterations",
     .fallback = 1'000'000,
     .min = 1,
     .max = 2'000'000'000,
     .bench = PresetValues{.smoke = 1000,
                           .quick = 100'000,
                           .standard = 200'000,
                           .seed = 1'000'000,
                           .full = 1'000'000},
     .scale_power = 1},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(pbkdf2) = {
    .name = "pbkdf2",
    .id = "E4",
    .summary = "PBKDF2-HMAC-SHA512 fingerprint of each book",
    .work = WorkKind::cpu,
    .uses_corpus = true,
    .options = kOptions,
    .make_tasks = pbkdf2_tasks,
    .task_line = pbkdf2_line,
    .task_json = pbkdf2_json,
};

}  // namespace cbench
