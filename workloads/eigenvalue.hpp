// E5: the largest eigenvalue of a random integer matrix (docs/design.md, "Workload semantics").
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace cbench {

// The n x n matrix of task `seed`, row-major: entry = bottom + next() mod (top - bottom) from a
// splitmix64 stream seeded with `seed`, drawn row by row. n < 1 or top <= bottom is
// std::invalid_argument.
std::vector<double> random_integer_matrix(std::uint64_t seed, long n, long bottom, long top);

// All eigenvalues of that matrix (no vectors), and the largest by real part, then imaginary
// part, as NumPy orders complex numbers. For entries 0..8 it is close to 4n.
std::complex<double> largest_eigenvalue(std::uint64_t seed, long n, long bottom = 0, long top = 9);

// What solves it in this build and process: "LAPACKE dgees over LAPACK 3.11.0
// (lapack/liblapack.so.3.11.0)", the LAPACK named by the file it was loaded from (the one the
// system's alternatives chose, which NumPy loads too), or "Eigen's own RealSchur (built without
// LAPACKE)".
std::string eigen_solver();

}  // namespace cbench
