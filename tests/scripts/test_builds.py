"""compare --builds and --commits, with fake_bench.py standing in for the benchmark binary."""
import json
import shutil
import subprocess
import sys
import unittest

from helpers import FakeBenchTest, cli_env, fake_binary, run_cli

from cbench_report.builds import interleaved, merge_runs

class MergeTest(unittest.TestCase):
    def test_interleaved_order(self):
        self.assertEqual(interleaved(2), [("A", 0), ("B", 0), ("A", 1), ("B", 1)])

    def test_merge_renumbers_repetitions_and_drops_aggregates(self):
        row = {"name": "x/executor:a/workers:1/process_time/real_time", "run_type": "iteration",
               "repetitions": 1, "repetition_index": 0, "real_time": 1.0, "time_unit": "ms"}
        aggregate = {**row, "name": row["name"] + "_mean", "run_type": "aggregate"}
        docs = [{"context": {"host_name": "h"}, "benchmarks": [{**row, "real_time": t}, aggregate]}
                for t in (1.0, 2.0, 3.0)]
        merged = merge_runs(docs)
        self.assertEqual([r["real_time"] for r in merged["benchmarks"]], [1.0, 2.0, 3.0])
        self.assertEqual([r["repetition_index"] for r in merged["benchmarks"]], [0, 1, 2])
        self.assertEqual({r["repetitions"] for r in merged["benchmarks"]}, {3})
        self.assertEqual(merged["context"]["cbench_merged_runs"], "3")


class BuildsTest(FakeBenchTest):
    def test_slower_build_is_a_regression(self):
        a = fake_binary(self.dir / "a", "--fake_label=A")
        b = fake_binary(self.dir / "b", "--fake_label=B", "--fake_scale=1.2")
        out = self.dir / "out"
        result = run_cli("compare", "--builds", a, b, "--repetitions", "5", "-o", out,
                         "--filter", "executor:pool", "--", "--benchmark_min_time=0.01")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("regression", result.stdout)
        lines = self.log.read_text().splitlines()
        self.assertEqual([line.split()[0] for line in lines], ["A", "B"] * 5)
        for line in lines:  # one repetition each, the filter and the extra arguments passed on
            self.assertIn("--benchmark_repetitions=1", line)
            self.assertIn("--benchmark_filter=executor:pool", line)
            self.assertIn("--benchmark_min_time=0.01", line)
        merged = json.loads((out / "B.json").read_text())
        names = {r["name"] for r in merged["benchmarks"]}
        self.assertEqual(len(names), 9)  # pool: 3 modes × 3 worker counts
        self.assertEqual({r["repetitions"] for r in merged["benchmarks"]}, {5})

    def test_same_build_twice_is_no_regression(self):
        a = fake_binary(self.dir / "a", "--fake_label=A")
        result = run_cli("compare", "--builds", a, a, "--repetitions", "5", "-o", self.dir / "out",
                         "--markdown")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("No benchmark regression", result.stdout)

    def test_failing_binary_is_unusable_input(self):
        a = fake_binary(self.dir / "a")
        bad = fake_binary(self.dir / "bad", "--fake_fail")
        result = run_cli("compare", "--builds", a, bad, "--repetitions", "2", "-o", self.dir / "out")
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 3, result.stderr)  # 2 runs + the error
        self.assertIn(f"{bad}: exited with status 1", result.stderr)

    @unittest.skipUnless(shutil.which("cmake") and shutil.which("git") and shutil.which("make"),
                         "needs cmake, make and git")
    def test_commits_are_built_in_worktrees(self):
        repo = self.dir / "repo"
        repo.mkdir()
        (repo / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.20)\nproject(fake NONE)\n"
            "add_custom_target(cbench_bench\n"
            "  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/benchmarks\n"
            "  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/bench.sh "
            "${CMAKE_BINARY_DIR}/benchmarks/cbench_bench)\n")
        (repo / "CMakePresets.json").write_text(json.dumps({
            "version": 3,
            "configurePresets": [{"name": "release", "generator": "Unix Makefiles",
                                  "binaryDir": "${sourceDir}/build/release"}],
            "buildPresets": [{"name": "release", "configurePreset": "release"}]}))

        def git(*args):
            subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                           check=True, capture_output=True)

        git("init", "-q")
        for label, scale in (("BASE", "1.0"), ("HEAD", "1.3")):
            fake_binary(repo / "bench.sh", f"--fake_label={label}", f"--fake_scale={scale}")
            git("add", ".")
            git("commit", "-q", "-m", label)
        out = self.dir / "out"
        result = subprocess.run(
            [sys.executable, "-m", "cbench_report", "compare", "--commits", "HEAD~1", "HEAD",
             "--repetitions", "5", "-o", str(out), "--filter", "mode:map"],
            capture_output=True, text=True, env=cli_env(), cwd=repo, timeout=120)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertEqual([line.split()[0] for line in self.log.read_text().splitlines()],
                         ["BASE", "HEAD"] * 5)
        self.assertFalse((out / "worktrees" / "worktree").exists())  # removed afterwards
        self.assertTrue((out / "worktrees" / "build.log").is_file())
        self.assertEqual((out / "worktrees" / "build.log").read_text().count("cmake --preset"), 2)

    def test_commit_that_does_not_exist(self):
        repo = self.dir / "repo"
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        result = run_cli("compare", "--commits", "nope1", "nope2", "--repo", repo, "-o", self.dir / "out")
        self.assertEqual(result.returncode, 2)
        self.assertIn("commit nope1", result.stderr)
        self.assertNotIn("Traceback", result.stderr)


if __name__ == "__main__":
    unittest.main()
