#include "benchmarks/journal.hpp"

#include "benchmarks/host_watch.hpp"
#include "experiments/json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace cbench::bench {
namespace {

// Google Benchmark escapes every newline inside a string, so the ones left are between tokens
// and become spaces. It leaves the other control bytes as they are (a book's name, an error
// message may hold one), which JSON does not allow in a string: they are escaped here.
std::string one_line(const std::string& text) {
  std::string line;
  line.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      line += ' ';
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      line += escaped;
    } else {
      line += c;
    }
  }
  return line;
}

}  // namespace

JournalingJsonReporter::JournalingJsonReporter(const std::filesystem::path& journal, int cases,
                                               bool append, std::filesystem::path results)
    : cases_(cases), path_(journal.string()), results_(std::move(results)) {
  fd_ =
      ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the journal " + path_ + ": " + std::strerror(errno));
  }
  // A last line cut off by a crash is ended, so that this part's first line is a line of its own.
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  char last = '\n';
  if (size > 0 && ::pread(fd_, &last, 1, size - 1) == 1 && last != '\n') append_raw("\n");
}

JournalingJsonReporter::~JournalingJsonReporter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalingJsonReporter::append(const std::string& line) {
  append_raw(line + "\n");
}

void JournalingJsonReporter::append_raw(const std::string& text) {
  // A line is whole or absent: a write that fails (a full disk) is cut back to where the line
  // began, and the run stops, since what it measured next could not be kept.
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      if (before >= 0) (void)::ftruncate(fd_, before);
      stop_unwritten("the journal " + path_ + ": " + std::strerror(error) +
                     "; it holds every case finished before this one");
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string JournalingJsonReporter::written_by(const std::function<void()>& report) {
  std::ostream* file = &GetOutputStream();
  std::ostringstream text;
  SetOutputStream(&text);
  report();
  SetOutputStream(file);
  *file << text.str() << std::flush;
  if (!*file) {
    stop_unwritten("the results " + results_.string() + " (the disk may be full); the journal " +
                   path_ + " holds every case finished");
  }
  return text.str();
}

void JournalingJsonReporter::stop_unwritten(const std::string& what) {
  if (!results_.empty()) ::unlink(results_.c_str());  // a JSON cut off is not a result
  std::fprintf(stderr, "cbench_bench: error: cannot write %s (--cbench_resume runs the rest)\n",
               what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

bool JournalingJsonReporter::ReportContext(const Context& context) {
  bool ok = false;
  // {"context": {...}, "benchmarks": [   ->   the object after "context":
  const std::string all = written_by([&] { ok = JSONReporter::ReportContext(context); });
  const auto open = all.find('{', all.find("\"context\""));
  const auto close = all.rfind('}', all.find("\"benchmarks\""));
  if (open != std::string::npos && close != std::string::npos && close > open) {
    const std::string text = one_line(all.substr(open, close - open + 1));
    json::Document header{{"cbench_journal", 1}, {"cases", cases_}};
    header["context"] = json::Document::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!header["context"].is_discarded()) {
      append(json::dump(header));
    } else {  // bytes that are not UTF-8 in a context field: Google Benchmark's own text
      append("{\"cbench_journal\": 1, \"cases\": " + std::to_string(cases_) +
             ", \"context\": " + text + "}");
    }
  }
  return ok;
}

void JournalingJsonReporter::ReportRuns(const std::vector<Run>& reported) {
  if (reported.empty()) return;
  std::vector<Run> runs = reported;
  annotate_runs(runs);  // the host's speed around the case (host_watch.hpp)
  std::string rows = written_by([&] { JSONReporter::ReportRuns(runs); });
  rows.erase(0, rows.find('{'));  // the separator from the case before
  // Google Benchmark reports a case's repetitions, then its aggregates, in two calls: the case
  // goes to the journal in one line, once both are there, so that a case is finished or not.
  const Run& first = runs.front();
  if (first.run_type == Run::RT_Iteration && first.repetitions > 1) {
    repetitions_ = rows;
    return;
  }
  if (first.run_type == Run::RT_Aggregate && !repetitions_.empty()) {
    rows = repetitions_ + ", " + rows;
  }
  repetitions_.clear();
  append("[" + one_line(rows) + "]");
}

std::string case_name(std::string_view run_name) {
  std::string name;
  std::size_t start = 0;
  bool first = true;
  while (start <= run_name.size()) {
    auto end = run_name.find('/', start);
    if (end == std::string_view::npos) end = run_name.size();
    const std::string_view segment = run_name.substr(start, end - start);
    const bool ours =
        !(segment.starts_with("min_time:") || segment.starts_with("min_warmup_time:") ||
          segment.starts_with("iterations:") || segment.starts_with("repeats:") ||
          segment.starts_with("threads:") || segment == "process_time" || segment == "real_time" ||
          segment == "manual_time");
    if (!ours && !first) break;
    name += (first ? "" : "/") + std::string(segment);
    first = false;
    start = end + 1;
  }
  return name;
}

JournalContents read_journal(const std::filesystem::path& journal) {
  std::ifstream in(journal);
  if (!in) throw std::runtime_error("cannot read the journal " + journal.string());
  return read_journal(in, journal.string());
}

JournalContents read_journal(std::istream& in, const std::string& name) {
  JournalContents contents;
  bool header = false;
  std::string line;
  while (std::getline(in, line)) {
    // A line a crash cut off, or one that is not JSON, is left out (its case runs again).
    const auto value = json::Document::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_object() && value.contains("cbench_journal")) {
      if (!header) {
        header = true;
        // A field of another type or out of range is read as missing, not thrown on.
        const auto& cases = value.contains("cases") ? value["cases"] : json::Document{};
        if (cases.is_number_unsigned() &&
            cases.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX)) {
          contents.cases = static_cast<int>(cases.get<std::uint64_t>());
        }
        const auto& context = value.contains("context") ? value["context"] : json::Document{};
        for (const char* key : {"cbench_commit", "cbench_preset", "cbench_corpus_checksum",
                                "cbench_workers", "cbench_version"}) {
          const bool text =
              context.is_object() && context.contains(key) && context[key].is_string();
          contents.context[key] = text ? context[key].get<std::string>() : std::string();
        }
      }
    } else if (value.is_array() && !value.empty() && value[0].is_object() &&
               value[0].contains("run_name") && value[0]["run_name"].is_string()) {
      contents.finished.insert(case_name(value[0]["run_name"].get<std::string>()));
    }
  }
  if (!header) {
    throw std::runtime_error("the journal " + name + " has no header line: not a cbench journal");
  }
  return contents;
}

}  // namespace cbench::bench
