// The result of a most-common-word task, shared by the two experiments that compute it from
// memory (wordcount) and from a download (wordcount-http): one encoding, one line, one JSON.
#pragma once

#include <string>

#include "executors/wire.hpp"
#include "experiments/experiment.hpp"
#include "experiments/json.hpp"
#include "workloads/word_count.hpp"

namespace cbench::word_count_result {

inline Bytes encode(const WordCount& result) {
  return wire::Writer().str(result.word).u64(result.count).take();
}

inline WordCount decode(const Bytes& value) {
  wire::Reader in(value);
  WordCount result{std::string(in.str()), in.u64()};
  in.expect_done();
  return result;
}

inline std::string line(const Task& task, const Bytes& value) {
  const WordCount result = decode(value);
  return "Most common word in " + task.name + " is \"" + result.word + "\" (" +
         std::to_string(result.count) + " appearances)";
}

inline std::string json(const Bytes& value) {
  const WordCount result = decode(value);
  return "{\"word\":" + json::quote(result.word) + ",\"count\":" + std::to_string(result.count) +
         "}";
}

}  // namespace cbench::word_count_result
