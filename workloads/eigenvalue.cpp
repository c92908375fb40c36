#include "workloads/eigenvalue.hpp"

#include <dlfcn.h>
#if CBENCH_LAPACKE
#include <lapacke.h>
#endif

#include <Eigen/Eigenvalues>
#include <filesystem>
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
#if CBENCH_LAPACKE
  // NumPy's eigvals: dgeev without vectors (balancing, a blocked Hessenberg reduction, then
  // multishift QR with aggressive early deflation for the eigenvalues alone).
  const auto size = static_cast<lapack_int>(n);
  Eigen::VectorXd real(n), imaginary(n);
  const lapack_int info = LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', size, matrix.data(), size,
                                        real.data(), imaginary.data(), nullptr, 1, nullptr, 1);
  if (info != 0) {
    throw std::runtime_error("the eigenvalue solver did not converge for matrix " +
                             std::to_string(seed) + " (dgeev: " + std::to_string(info) + ")");
  }
  const Eigen::VectorXcd values =
      real.cast<std::complex<double>>() +
      std::complex<double>(0, 1) * imaginary.cast<std::complex<double>>();
#else
  Eigen::EigenSolver<Eigen::MatrixXd> solver(matrix, /*computeEigenvectors=*/false);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("the eigenvalue solver did not converge for matrix " +
                             std::to_string(seed));
  }
  const auto& values = solver.eigenvalues();
#endif
  std::complex<double> largest = values[0];
  for (Eigen::Index i = 1; i < values.size(); ++i) {
    const std::complex<double> v = values[i];
    if (v.real() > largest.real() || (v.real() == largest.real() && v.imag() > largest.imag())) {
      largest = v;
    }
  }
  return largest;
}

#if CBENCH_LAPACKE
extern "C" void ilaver_(int* major, int* minor, int* patch);  // LAPACK's own version
#endif

std::string eigen_solver() {
#if CBENCH_LAPACKE
  int major = 0, minor = 0, patch = 0;
  ilaver_(&major, &minor, &patch);
  std::string from = "an unknown file";
  Dl_info info{};
  void* dgeev = ::dlsym(RTLD_DEFAULT, "dgeev_");
  if (dgeev != nullptr && ::dladdr(dgeev, &info) != 0 && info.dli_fname != nullptr) {
    std::error_code error;
    std::filesystem::path file = std::filesystem::canonical(info.dli_fname, error);
    if (error) file = info.dli_fname;
    from = (file.parent_path().filename() / file.filename()).string();
  }
  return "LAPACKE dgeev over LAPACK " + std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(patch) + " (" + from + ")";
#else
  return "Eigen's own RealSchur (built without LAPACKE)";
#endif
}

}  // namespace cbench
