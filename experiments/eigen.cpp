// E5 eigen: the largest eigenvalue of 8 random integer matrices, CPU and memory bound.
#include <cstdio>
#include <stdexcept>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "workloads/eigenvalue.hpp"

namespace cbench {
namespace {

Bytes run_eigen(std::string_view input) {
  wire::Reader in(input);
  const auto seed = in.u64();
  const long n = in.i64(), bottom = in.i64(), top = in.i64();
  in.expect_done();
  const auto value = largest_eigenvalue(seed, n, bottom, top);
  return wire::Writer().f64(value.real()).f64(value.imag()).take();
}

[[maybe_unused]] const bool kKinds = register_task_kinds({{"eigen", run_eigen}});

std::pair<double, double> decode_complex(const Bytes& value) {
  wire::Reader in(value);
  std::pair<double, double> v{in.f64(), in.f64()};
  in.expect_done();
  return v;
}

std::vector<Task> eigen_tasks(const Corpus&, const Options& o) {
  const long n = o.integer("size"), bottom = o.integer("bottom"), top = o.integer("top");
  const long matrices = o.integer("matrices");
  if (n < 1) throw std::invalid_argument("--size must be at least 1, got " + std::to_string(n));
  if (top <= bottom) throw std::invalid_argument("matrix entries need bottom < top");
  if (matrices < 1) throw std::invalid_argument("at least one matrix is needed");
  std::vector<Task> tasks;
  for (long i = 0; i < matrices; ++i) {
    wire::Writer in;
    in.u64(static_cast<std::uint64_t>(i)).i64(n).i64(bottom).i64(top);
    tasks.push_back(make_task("eigen", "matrix " + std::to_string(i), in.take()));
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

constexpr OptionSpec kOptions[] = {
    // The original's 1000 x 1000 takes about a second per matrix; the shorter presets keep the
    // work per task large against dispatch (200 x 200 is about 10 ms).
    {.name = "size",
     .placeholder = "N",
     .help = "matrix size n",
     .fallback = 1000,
     .min = 1,
     .max = 100'000'000,
     .bench = PresetValues{.smoke = 16, .quick = 200, .standard = 300, .seed = 1000, .full = 1000},
     // A dense eigenvalue solve costs n³: S times the work is n times S^(1/3).
     .scale_power = 1.0 / 3},
    {.name = "matrices",
     .placeholder = "N",
     .help = "how many matrices (tasks)",
     .fallback = 8,
     .min = 1,
     .max = 1'000'000},
    {.name = "bottom",
     .placeholder = "B",
     .help = "entries are drawn from [B, T)",
     .fallback = 0,
     .min = -1'000'000'000,
     .max = 1'000'000'000},
    {.name = "top",
     .placeholder = "T",
     .help = "entries are drawn from [B, T)",
     .fallback = 9,
     .min = -1'000'000'000,
     .max = 1'000'000'000},
};

}  // namespace

CBENCH_REGISTER_EXPERIMENT(eigen) = {
    .name = "eigen",
    .id = "E5",
    .summary = "largest eigenvalue of 8 random integer matrices",
    .work = WorkKind::cpu,
    .options = kOptions,
    .make_tasks = eigen_tasks,
    .task_line = eigen_line,
    .task_json = eigen_json,
};

}  // namespace cbench
