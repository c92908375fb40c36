// The pool executor's nested fork-joins (pool_fork_join.cpp): W threads whose waiting workers
// help (they run any task they can take), and a variant whose waiting workers block, to show the
// deadlock helping avoids (docs/design.md, "Nested fork-join").
#pragma once

#include <memory>

#include "executors/fork_join.hpp"

namespace cbench {

std::unique_ptr<ForkJoin> make_pool_fork_join(int workers);
std::unique_ptr<ForkJoin> make_pool_fork_join_blocking(int workers);

}  // namespace cbench
