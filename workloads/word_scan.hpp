// The scan loop's entry point, for the files that count a text into a word table
// (most_common_word.cpp, word_frequencies.cpp). Internal to workloads/.
#pragma once

#include <string_view>

#include "workloads/word_table.hpp"

namespace cbench::word_count_detail {

// Counts every word of `text` into `table`, with the kernel chosen at run time (word_scan.cpp).
// Throws unicode::InvalidUtf8 at the first invalid byte.
void count_all(std::string_view text, WordTable& table);

}  // namespace cbench::word_count_detail
