// The run's journal (docs/results-format.md, "The journal"): every finished case on disk the
// moment it finishes, so that an interrupted run (Ctrl-C, a signal, a case that crashed) loses
// only the case it was in. One JSON value per line, each line written with one write():
//
//   {"cbench_journal": 1, "cases": N, "context": {...}}   once per part of the run: the context
//                                                          Google Benchmark writes, and how many
//                                                          cases this part registered
//   [{...}, {...}]                                         every row of one finished case (its
//                                                          repetitions, then its aggregates), as
//                                                          Google Benchmark's JSON writes them,
//                                                          on one line
//
// `scripts/report assemble` turns a journal into the results.json Google Benchmark would have
// written; a resumed run appends its part to the same journal.
#pragma once

#include <benchmark/benchmark.h>

#include <filesystem>
#include <functional>
#include <istream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cbench::bench {

// Google Benchmark's JSON reporter, writing --benchmark_out as usual, and the same rows to the
// journal as each case finishes.
class JournalingJsonReporter final : public benchmark::JSONReporter {
 public:
  // Opens the journal (throws std::runtime_error naming it): emptied first, unless `append`
  // (the run resumes it). `cases`: how many cases this run registered.
  // `results` is the --benchmark_out file this reporter writes: on a write that fails (a full
  // disk) it is removed, since the journal, cut back to its last whole line, is the record.
  JournalingJsonReporter(const std::filesystem::path& journal, int cases, bool append,
                         std::filesystem::path results = {});
  ~JournalingJsonReporter() override;
  JournalingJsonReporter(const JournalingJsonReporter&) = delete;
  JournalingJsonReporter& operator=(const JournalingJsonReporter&) = delete;

  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;

 private:
  // What report() writes to the JSON file, written there too.
  std::string written_by(const std::function<void()>& report);
  void append(const std::string& line);
  void append_raw(const std::string& text);
  // A write that failed (a full disk): removes the cut --benchmark_out file, says what could not
  // be written, and ends the process with status 1; the journal keeps what was measured.
  [[noreturn]] void stop_unwritten(const std::string& what);

  int fd_ = -1;
  int cases_ = 0;
  std::string path_;
  std::filesystem::path results_;
  std::string repetitions_;  // a case's repetition rows, until its aggregates come
};

// What a journal already holds: the cases it finished (each as the name the filters see, without
// Google Benchmark's /min_time:..., /process_time, /real_time segments), the number of cases its
// first part registered, and the string fields of its first part's context.
struct JournalContents {
  std::set<std::string> finished;
  int cases = 0;
  std::map<std::string, std::string> context;
};

// Reads a journal; a last line cut off by a crash is left out. Throws std::runtime_error naming
// the file when it cannot be read or holds no header.
JournalContents read_journal(const std::filesystem::path& journal);
// The same from a stream, `name` naming it in errors.
JournalContents read_journal(std::istream& in, const std::string& name);

// A row's run_name without Google Benchmark's own segments: the case's name.
std::string case_name(std::string_view run_name);

}  // namespace cbench::bench
