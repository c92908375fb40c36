#include "workloads/eigenvalue.hpp"

#include <dlfcn.h>
#include <stdlib.h>
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

namespace {

#if CBENCH_LAPACKE
using Dgeev = lapack_int (*)(int, char, char, lapack_int, double*, lapack_int, double*, double*,
                             double*, lapack_int, double*, lapack_int);
using Ilaver = void (*)(int*, int*, int*);

// LAPACKE, loaded at the first solve rather than linked. A LAPACK may start threads as it is
// loaded (a threaded OpenBLAS behind liblapack.so.3, if the system's alternatives choose it): a
// linked one would start them before main, and the fork server, which must start while the
// process has one thread, would refuse to. Loaded here, after the fork server, with
// OPENBLAS_NUM_THREADS at 1 unless the user set it (below), it solves each task on one thread,
// as every executor expects of a task.
struct Lapacke {
  Dgeev dgeev = nullptr;
  std::string solver;  // what eigen_solver() says
};

const Lapacke& lapacke() {
  static const Lapacke loaded = [] {
    Lapacke l;
    void* handle = nullptr;
    for (const char* name : {"liblapacke.so.3", "liblapacke.so"}) {
      if ((handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
    if (handle == nullptr) {
      const char* why = ::dlerror();
      l.solver = std::string("Eigen's own RealSchur (LAPACKE could not be loaded: ") +
                 (why != nullptr ? why : "no liblapacke.so.3") + ")";
      return l;
    }
    l.dgeev = reinterpret_cast<Dgeev>(::dlsym(handle, "LAPACKE_dgeev"));
    const auto version = reinterpret_cast<Ilaver>(::dlsym(handle, "ilaver_"));
    if (l.dgeev == nullptr || version == nullptr) {
      l.dgeev = nullptr;
      l.solver = "Eigen's own RealSchur (the LAPACKE loaded has no LAPACKE_dgeev or ilaver_)";
      return l;
    }
    int major = 0, minor = 0, patch = 0;
    version(&major, &minor, &patch);
    // The LAPACK file: the one the system's alternatives chose, NumPy's too.
    std::string from = "an unknown file";
    Dl_info info{};
    void* dgeev = ::dlsym(handle, "dgeev_");
    if (dgeev != nullptr && ::dladdr(dgeev, &info) != 0 && info.dli_fname != nullptr) {
      std::error_code error;
      std::filesystem::path file = std::filesystem::canonical(info.dli_fname, error);
      if (error) file = info.dli_fname;
      from = (file.parent_path().filename() / file.filename()).string();
    }
    l.solver = "LAPACKE dgeev over LAPACK " + std::to_string(major) + "." + std::to_string(minor) +
               "." + std::to_string(patch) + " (" + from + ")";
    return l;
  }();
  return loaded;
}

// Before main, while the process has one thread: a threaded OpenBLAS loaded later starts no
// threads of its own unless the user asked for them.
[[maybe_unused]] const bool kOneLapackThread = [] {
  ::setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/0);
  return true;
}();
#endif

// Every eigenvalue of the matrix (which it may overwrite): by LAPACK's dgeev, NumPy's eigvals
// call (balancing, a blocked Hessenberg reduction, then multishift QR with aggressive early
// deflation, for the eigenvalues alone), where LAPACKE was loaded; else by Eigen's own solver.
Eigen::VectorXcd eigenvalues(Eigen::MatrixXd& matrix, std::uint64_t seed) {
#if CBENCH_LAPACKE
  if (const Dgeev dgeev = lapacke().dgeev) {
    const auto n = static_cast<lapack_int>(matrix.rows());
    Eigen::VectorXd real(n), imaginary(n);
    const lapack_int info = dgeev(LAPACK_COL_MAJOR, 'N', 'N', n, matrix.data(), n, real.data(),
                                  imaginary.data(), nullptr, 1, nullptr, 1);
    if (info != 0) {
      throw std::runtime_error("the eigenvalue solver did not converge for matrix " +
                               std::to_string(seed) + " (dgeev: " + std::to_string(info) + ")");
    }
    return real.cast<std::complex<double>>() +
           std::complex<double>(0, 1) * imaginary.cast<std::complex<double>>();
  }
#endif
  Eigen::EigenSolver<Eigen::MatrixXd> solver(matrix, /*computeEigenvectors=*/false);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("the eigenvalue solver did not converge for matrix " +
                             std::to_string(seed));
  }
  return solver.eigenvalues();
}

}  // namespace

std::complex<double> largest_eigenvalue(std::uint64_t seed, long n, long bottom, long top) {
  const std::vector<double> entries = random_integer_matrix(seed, n, bottom, top);
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::MatrixXd matrix = Eigen::Map<const RowMajor>(entries.data(), n, n);
  const Eigen::VectorXcd values = eigenvalues(matrix, seed);
  std::complex<double> largest = values[0];
  for (Eigen::Index i = 1; i < values.size(); ++i) {
    const std::complex<double> v = values[i];
    if (v.real() > largest.real() || (v.real() == largest.real() && v.imag() > largest.imag())) {
      largest = v;
    }
  }
  return largest;
}

std::string eigen_solver() {
#if CBENCH_LAPACKE
  return lapacke().solver;
#else
  return "Eigen's own RealSchur (built without LAPACKE)";
#endif
}

}  // namespace cbench
