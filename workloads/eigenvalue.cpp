#include "workloads/eigenvalue.hpp"

#include <Eigen/Eigenvalues>
#include <stdexcept>
#include <string>

#include "workloads/splitmix64.hpp"

namespace cbench {

std::vector<double> random_integer_matrix(std::uint64_t seed, long n, long bottom, long top) {
  if (n < 1)
    throw std::invalid_argument("matrix size must be at least 1, got " + std::to_string(n));
  if (top <= bottom) {
    throw std::invalid_argument("matrix entries need bottom < top, got [" + std::to_string(bottom) +
                                ", " + std::to_string(top) + ")");
  }
  SplitMix64 rng(seed);
  const auto range = static_cast<std::uint64_t>(top - bottom);
  std::vector<double> entries(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  for (double& entry : entries) {
    entry = static_cast<double>(bottom + static_cast<long>(rng.next() % range));
  }
  return entries;
}

std::complex<double> largest_eigenvalue(std::uint64_t seed, long n, long bottom, long top) {
  const std::vector<double> entries = random_integer_matrix(seed, n, bottom, top);
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::MatrixXd matrix = Eigen::Map<const RowMajor>(entries.data(), n, n);
  Eigen::EigenSolver<Eigen::MatrixXd> solver(matrix, /*computeEigenvectors=*/false);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("the eigenvalue solver did not converge for matrix " +
                             std::to_string(seed));
  }
  const auto& values = solver.eigenvalues();
  std::complex<double> largest = values[0];
  for (Eigen::Index i = 1; i < values.size(); ++i) {
    const std::complex<double> v = values[i];
    if (v.real() > largest.real() || (v.real() == largest.real() && v.imag() > largest.imag())) {
      largest = v;
    }
  }
  return largest;
}

}  // namespace cbench
