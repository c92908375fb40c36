// E1 count: a worker counts 1..10 while the main thread counts 11..20, sleeping between numbers:
// waiting work, where a thread or a coroutine per task is the point and the CPU is idle.
#include <unistd.h>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "workloads/counter_async.hpp"

namespace cbench {
namespace {

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

Async<Bytes> run_count_async(std::string_view input) {
  const CountInput c = decode_count(input);
  const std::vector<long> numbers = co_await count_async(c.start, c.end, c.interval, c.sink);
  co_return encode_numbers(numbers);
}

[[maybe_unused]] const bool kKinds =
    register_task_kinds({{"count", run_count}}, {{"count", run_count_async}});

std::vector<long> decode_numbers(const Bytes& value) {
  wire::Reader in(value);
  std::vector<long> numbers(in.count(sizeof(std::int64_t)));
  for (long& n : numbers) n = in.i64();
  in.expect_done();
  return numbers;
}

std::vector<Task> count_tasks(const Corpus&, const Options& o) {
  // The original: a worker counts 1..10 while the main thread counts 11..20.
  const long n = o.integer("size");
  auto counter = [&](std::string name, long start) {
    wire::Writer in;
    in.i64(start).i64(start + n).i64(o.duration("interval").count()).u64(o.echo ? 1 : 0);
    return make_task("count", std::move(name), in.take());
  };
  return {counter("worker", 1), counter("main", n + 1)};
}

std::string count_json(const Bytes& value) {
  std::string out = "[";
  for (long n : decode_numbers(value)) out += (out.size() > 1 ? "," : "") + std::to_string(n);
  return out + "]";
}

constexpr OptionSpec kOptions[] = {
    {.name = "size",
     .placeholder = "N",
     .help = "numbers each",
     .fallback = 10,
     .min = 1,
     .max = 100'000'000,
     .bench = PresetValues{.smoke = 2, .quick = 5, .standard = 10, .seed = 10, .full = 10}},
    // The original sleeps 1 s; shorter sleeps keep the shape (all time is waiting) in less time.
    {.name = "interval",
     .kind = OptionKind::seconds,
     .placeholder = "SECONDS",
     .help = "sleep after each number",
     .fallback = 1,
     .min = 0,
     .max = 86400,
     .bench =
         PresetValues{.smoke = 0.001, .quick = 0.01, .standard = 0.05, .seed = 1, .full = 0.1}},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(count) = {
    .name = "count",
    .id = "E1",
    .summary = "a worker counts 1..10 while main counts 11..20, sleeping between numbers",
    .work = WorkKind::waiting,
    .options = kOptions,
    .make_tasks = count_tasks,
    .task_json = count_json,
};

}  // namespace cbench
