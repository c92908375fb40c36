// stream: each task runs the STREAM triad a[i] = b[i] + s·c[i] over three arrays of its own,
// larger than the caches together, a fixed number of passes: the first memory-bound experiment,
// where the speedup flattens at the memory bandwidth rather than at the core count.
//
// The arrays are taken from a pool that keeps them for the process's life, so a worker pays the
// kernel's first touch of their pages once, not in every task: the triad then measures the
// memory's bandwidth, not page faults. A task has its arrays to itself while it runs, and at most
// W sets exist, one per task in flight.
//
// Each pass feeds the next (the arrays a and b swap roles), so no pass can be left out by the
// compiler, and the result is a checksum of the last array, summed in a fixed order: the same
// bytes whichever executor ran the task. bytes/s counts what STREAM counts for the triad: three
// arrays of 8-byte elements moved per pass (two read, one written).
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"

namespace cbench {
namespace {

constexpr double kScalar = 3.0;

struct StreamInput {
  std::uint64_t elements, passes;
  std::uint64_t seed;  // the task's number: each task's arrays, and so its checksum, differ
};

StreamInput decode_stream(std::string_view input) {
  wire::Reader in(input);
  StreamInput s{in.u64(), in.u64(), in.u64()};
  in.expect_done();
  return s;
}

// Three arrays of n doubles, lent to one task at a time.
struct Arrays {
  std::size_t n = 0;
  std::unique_ptr<double[]> a, b, c;
};

class ArrayPool {
 public:
  std::unique_ptr<Arrays> take(std::size_t n) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if ((*it)->n != n) continue;
        auto arrays = std::move(*it);
        free_.erase(it);
        return arrays;
      }
    }
    // Not value-initialised: the task writes every element before it reads one.
    auto arrays = std::make_unique<Arrays>();
    arrays->n = n;
    arrays->a.reset(new double[n]);
    arrays->b.reset(new double[n]);
    arrays->c.reset(new double[n]);
    return arrays;
  }
  void give_back(std::unique_ptr<Arrays> arrays) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(arrays));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Arrays>> free_;
};

ArrayPool& pool() {
  static ArrayPool* p = new ArrayPool;  // never destroyed: a worker may run a task at exit
  return *p;
}

Bytes run_stream(std::string_view input) {
  const StreamInput s = decode_stream(input);
  const std::size_t n = s.elements;
  std::unique_ptr<Arrays> arrays = pool().take(n);
  double* const a = arrays->a.get();
  double* const b = arrays->b.get();
  double* const c = arrays->c.get();
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = 0;
    b[i] = static_cast<double>((i + s.seed) % 1000) * 0.5;
    c[i] = static_cast<double>(i % 7) * 0.25;
  }
  double* out = a;
  double* in = b;
  for (std::uint64_t pass = 0; pass < s.passes; ++pass) {
    for (std::size_t i = 0; i < n; ++i) out[i] = in[i] + kScalar * c[i];
    std::swap(out, in);
    asm volatile("" ::: "memory");  // each pass is done before the next reads it
  }
  double checksum = 0;
  for (std::size_t i = 0; i < n; ++i) checksum += in[i];
  pool().give_back(std::move(arrays));
  return wire::Writer().f64(checksum).take();
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"stream", run_stream}});

std::vector<Task> stream_tasks(const Corpus&, const Options& o) {
  const long mib = o.integer("array-mib"), passes = o.integer("passes"), n = o.integer("tasks");
  const auto elements = static_cast<std::uint64_t>(mib) * (1u << 20) / sizeof(double);
  std::vector<Task> tasks;
  for (long i = 0; i < n; ++i) {
    wire::Writer in;
    in.u64(elements).u64(static_cast<std::uint64_t>(passes)).u64(static_cast<std::uint64_t>(i));
    tasks.push_back(make_task("stream", "arrays " + std::to_string(i), in.take()));
  }
  return tasks;
}

double decode_checksum(const Bytes& value) {
  wire::Reader in(value);
  const double checksum = in.f64();
  in.expect_done();
  return checksum;
}

std::string stream_line(const Task& task, const Bytes& value) {
  return "Triad over " + task.name + ": checksum " + json::number(decode_checksum(value));
}

std::string stream_json(const Bytes& value) {
  return "{\"checksum\":" + json::number(decode_checksum(value)) + "}";
}

std::uint64_t stream_bytes(const Task& task, const Bytes&) {
  const StreamInput s = decode_stream(*task.input);
  return 3 * sizeof(double) * s.elements * s.passes;
}

constexpr OptionSpec kOptions[] = {
    // 3 × 32 MiB a task: more than this machine's caches together, even for one task alone.
    {.name = "array-mib",
     .placeholder = "MIB",
     .help = "MiB in each of a task's three arrays",
     .fallback = 32,
     .min = 1,
     .max = 65536,
     .bench = PresetValues{.smoke = 1, .quick = 32, .standard = 32, .seed = 32, .full = 64}},
    {.name = "passes",
     .placeholder = "N",
     .help = "triad passes over the arrays",
     .fallback = 10,
     .min = 1,
     .max = 1'000'000,
     .bench = PresetValues{.smoke = 1, .quick = 4, .standard = 10, .seed = 10, .full = 10},
     .scale_power = 1},
    {.name = "tasks",
     .placeholder = "N",
     .help = "how many tasks, each with arrays of its own",
     .fallback = 8,
     .min = 1,
     .max = 10'000},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(stream) = {
    .name = "stream",
    .summary = "STREAM triad a = b + s*c over arrays of each task's own, larger than the caches",
    .work = WorkKind::cpu,
    .options = kOptions,
    .make_tasks = stream_tasks,
    .task_line = stream_line,
    .task_json = stream_json,
    .bytes = stream_bytes,
};

}  // namespace cbench
