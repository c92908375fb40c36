#include "tests/support/oracle.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace cbench::testing {
namespace {

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace

std::optional<std::string> oracle_python() {
  std::string python = CBENCH_TEST_PYTHON;
  if (python.empty()) return std::nullopt;
  return python;
}

std::string run_oracle(std::string_view script, const std::vector<std::string>& args,
                       std::string_view input) {
  auto python = oracle_python();
  if (!python) throw std::runtime_error("no Python interpreter with NumPy was found at configure");
  TempDir dir;
  auto in = dir.write("stdin", input);
  auto err = dir.path() / "stderr";
  std::string command =
      shell_quote(*python) + " " +
      shell_quote(std::string(CBENCH_TEST_ORACLE_DIR) + "/" + std::string(script));
  for (const auto& arg : args) command += " " + shell_quote(arg);
  command += " <" + shell_quote(in.string()) + " 2>" + shell_quote(err.string());
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot start " + command);
  std::string output;
  std::array<char, 65536> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  if (status != 0) {
    throw std::runtime_error("oracle " + std::string(script) + " failed: " + read_file(err));
  }
  return output;
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env) {
  TempDir dir;
  const auto out_path = dir.path() / "out";
  const auto err_path = dir.path() / "err";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    FILE* out = std::freopen(out_path.c_str(), "w", stdout);
    FILE* err = std::freopen(err_path.c_str(), "w", stderr);
    FILE* in = std::freopen("/dev/null", "r", stdin);
    if (out == nullptr || err == nullptr || in == nullptr) ::_exit(126);
    for (const auto& assignment : env) {
      auto eq = assignment.find('=');
      std::string name = assignment.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : assignment.substr(eq + 1);
      if (value.empty()) {
        ::unsetenv(name.c_str());
      } else {
        ::setenv(name.c_str(), value.c_str(), 1);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::optional<std::filesystem::path> real_fixtures() {
  const char* dir = std::getenv("CBENCH_FIXTURES");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  std::filesystem::path path(dir);
  if (!std::filesystem::is_directory(path / "books")) return std::nullopt;
  return path;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cbench::testing
