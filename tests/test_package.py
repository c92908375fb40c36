"""cbench as a package: installed into a temporary prefix, the out-of-tree example
(examples/custom-experiment) configured and built against it, and its own benchmark binary run
under every executor this build has, `mpi` under mpirun where it is built. Its experiment's rows
must all be verified; the pitfall's (a kind that reads a table only the caller has) must fail by
name under the executors whose workers are processes or ranks, and pass under the others. The
JSON goes through scripts/report. A project that adds cbench with add_subdirectory is configured
too (not built: that would build cbench a second time). Everything is removed afterwards.

usage: test_package.py SOURCE_DIR BUILD_DIR CXX_COMPILER
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE, BUILD, CXX = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
EXAMPLE = SOURCE / "examples" / "custom-experiment"
# The grid at its smallest: two worker counts, as little time per case as Google Benchmark takes.
SMOKE = ["--cbench_smoke", "--cbench_workers=1,2", "--benchmark_min_time=0.001"]
MPIRUN = ["mpirun", "-n", "3", "--oversubscribe", "--bind-to", "none"]


def run(cmd, **kwargs):
    """Runs cmd; its output is shown when it fails, so that ctest's log says why."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=240,
                          **kwargs)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {done.returncode}\n"
                             f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def rows(path):
    """The iteration rows of a benchmark JSON, by name."""
    doc = json.loads(Path(path).read_text())
    return doc["context"], {r["name"]: r for r in doc["benchmarks"]
                            if r.get("run_type", "iteration") == "iteration"}


def executor_of(name):
    for segment in name.split("/"):
        if segment.startswith("executor:"):
            return segment[len("executor:"):]
    return None


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="cbench-package-"))
        # A class cleanup, unlike tearDownClass, runs when the set-up itself fails.
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        # The example as a user's project: a copy, outside cbench's tree.
        cls.project = cls.tmp / "project"
        shutil.copytree(EXAMPLE, cls.project)
        cls.prefix = cls.tmp / "prefix"
        run(["cmake", "--install", BUILD, "--prefix", cls.prefix])
        cls.build = cls.tmp / "build"
        run(["cmake", "-S", cls.project, "-B", cls.build, "-G", "Ninja",
             f"-DCMAKE_CXX_COMPILER={CXX}", "-DCMAKE_BUILD_TYPE=Release",
             f"-DCMAKE_PREFIX_PATH={cls.prefix}", "-DPRIMES_WITH_PITFALL=ON"])
        run(["nice", "-n", "19", "cmake", "--build", cls.build, "-j1"])
        cls.bench, cls.cli = cls.build / "primes_bench", cls.build / "primes"
        listing = json.loads(run([cls.prefix / "bin" / "cbench", "list", "--json"]).stdout)
        cls.executors = {e["name"]: e for e in listing["executors"]}
        cls.env = dict(os.environ)
        if os.geteuid() == 0:  # Open MPI refuses root unless told
            cls.env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        # One run of each, shared by the tests that read it.
        cls.out = cls.tmp / "primes.json"
        run([cls.bench, *SMOKE, "--cbench_workloads=primes,primes-pitfall",
             "--benchmark_filter=^primes", f"--benchmark_out={cls.out}",
             "--benchmark_out_format=json"], env=cls.env)
        cls.mpi = "mpi" in cls.executors and shutil.which("mpirun") is not None
        if cls.mpi:
            cls.mpi_out = cls.tmp / "primes-mpi.json"
            run([*MPIRUN, cls.bench, *SMOKE, "--cbench_workloads=primes,primes-pitfall",
                 "--cbench_executors=sequential,mpi", "--benchmark_filter=^primes",
                 f"--benchmark_out={cls.mpi_out}", "--benchmark_out_format=json"], env=cls.env)

    def test_installed_layout(self):
        config = self.prefix / "lib" / "cmake" / "cbench" / "cbenchConfig.cmake"
        self.assertTrue(config.is_file(), config)
        for header in ("experiments/experiment.hpp", "executors/executor.hpp",
                       "benchmarks/suite.hpp"):
            self.assertTrue((self.prefix / "include" / "cbench" / header).is_file(), header)

    def test_every_executor_runs_the_experiment_verified(self):
        context, found = rows(self.out)
        self.assertIn("cbench_task_seconds/primes", context)
        expected = [n for n, e in self.executors.items() if not e["needs_launcher"]]
        for executor in expected:
            name = f"primes/executor:{executor}/mode:map/workers:1"
            self.assertTrue(any(r.startswith(name) for r in found), f"no row {name}")
        ours = {n: r for n, r in found.items() if n.startswith("primes/")}
        self.assertEqual({executor_of(n) for n in ours}, set(expected))
        for name, row in ours.items():
            self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
            self.assertGreater(row["tasks_per_second"], 0, name)

    def test_a_kind_that_differs_between_executors_is_named(self):
        _, found = rows(self.out)
        pitfall = {n: r for n, r in found.items() if n.startswith("primes-pitfall/")}
        self.assertTrue(pitfall)
        for name, row in pitfall.items():
            executor = executor_of(name)
            if self.executors[executor]["workers"] in ("processes", "ranks"):
                self.assertTrue(row.get("error_occurred"), f"{name} passed with a table it lacks")
                message = row["error_message"]
                self.assertIn("range 0: result differs from the sequential reference", message)
                self.assertIn(f'task kind "primes-pitfall" under {executor} with', message)
                self.assertIn("4 of 4 tasks differ", message)
            else:
                self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")

    def test_mpi_engines_run_the_kind(self):
        if not self.mpi:
            self.skipTest("this build has no mpi executor, or mpirun is not installed")
        _, found = rows(self.mpi_out)
        ours = {n: r for n, r in found.items() if executor_of(n) == "mpi"}
        self.assertTrue(any(n.startswith("primes/executor:mpi/mode:map/workers:2") for n in ours))
        for name, row in ours.items():
            if name.startswith("primes/"):
                self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
            else:
                self.assertIn('task kind "primes-pitfall" under mpi with', row["error_message"])

    def test_the_cli_runs_the_experiment(self):
        listing = run([self.cli, "list"]).stdout
        self.assertIn("primes", listing)
        args = ["run", "--workload", "primes", "--ranges", "4", "--width", "2000"]

        def values(out):
            return [line for line in out.splitlines()
                    if not line.startswith(("Elapsed time", "CPU time"))]

        sequential = values(run([self.cli, *args], env=self.env).stdout)
        self.assertEqual(sequential[0], "Primes in [0, 2000): 303")
        # An independent reference: there are 1007 primes below 8000.
        self.assertEqual(sequential[-1], "Primes in all ranges: 1007")
        runs = [["--executor", "fork", "--workers", "2"]]
        if self.mpi:  # engines spawned by the executor: this binary, started again
            runs.append(["--executor", "mpi", "--workers", "2"])
        for extra in runs:
            self.assertEqual(values(run([self.cli, *args, *extra], env=self.env).stdout),
                             sequential, extra)

    def test_the_report_reads_the_run(self):
        if subprocess.run([SOURCE / "scripts" / "find-python", "numpy", "scipy", "matplotlib"],
                          capture_output=True).returncode != 0:
            self.skipTest("no python3 with NumPy, SciPy and matplotlib for scripts/report")
        report = self.tmp / "report"
        run([SOURCE / "scripts" / "report", "report", self.out, "-o", report])
        summary = (report / "summary.md").read_text()
        self.assertIn("primes", summary)
        # The failed rows are listed by name, with the task the check named.
        self.assertIn("primes-pitfall/executor:fork", summary)
        run([SOURCE / "scripts" / "report", "compare", self.out, self.out])
        # The gate measures the binary against itself: its verdict is the machine's noise, so only
        # that it read the runs (exit 0 or 1, not 2) and judged the project's families is checked.
        gate = subprocess.run(
            [SOURCE / "scripts" / "report", "gate", "--builds", self.bench, self.bench,
             "--pairs", "3", "--confirm-pairs", "3", "--no-profile", "-o", self.tmp / "gate", "--",
             "--cbench_preset=quick", "--cbench_workloads=primes", "--cbench_workers=1,2",
             "--benchmark_filter=^primes/executor:(sequential|pool)/mode:map"],
            capture_output=True, text=True, timeout=240)
        self.assertIn(gate.returncode, (0, 1), gate.stderr[-4000:])
        self.assertIn("primes/pool", gate.stdout)

    def test_add_subdirectory_configures(self):
        build = self.tmp / "subdirectory"
        run(["cmake", "-S", self.project, "-B", build, "-G", "Ninja", f"-DCMAKE_CXX_COMPILER={CXX}",
             f"-DCBENCH_SOURCE_DIR={SOURCE}", "-DCBENCH_WITH_MPI=OFF", "-DCBENCH_WERROR=ON",
             "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"])
        targets = run(["ninja", "-C", build, "-t", "targets", "all"]).stdout
        self.assertIn("primes_bench:", targets)
        self.assertNotIn("test_executors", targets)  # cbench's tests are its own, when top-level
        # cbench's warnings stay cbench's: its files get -Werror, the project's do not.
        commands = json.loads((build / "compile_commands.json").read_text())
        flags = {Path(c["file"]).name: c["command"] for c in commands}
        self.assertIn("-Werror", flags["executor.cpp"])
        self.assertNotIn("-Werror", flags["primes.cpp"])
        self.assertIn("-std=gnu++20", flags["primes.cpp"])

if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
