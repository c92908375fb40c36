"""scripts/bench keeps what it measured, however the run ends: a Ctrl-C (SIGINT to the process
group, as a terminal sends it), a SIGTERM to the script alone, a case that crashes. Each time
results.json is valid with every finished case, the report is written, one line says what
happened, the exit status is non-zero, and no process of the run is left; --resume then runs
only the missing cases. No sleep stands in for synchronisation: the test waits for the journal
to hold cases.

usage: test_bench_interrupt.py ROOT BUILD_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT, BUILD_DIR = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
BENCH = ROOT / "scripts" / "bench"
# Eight cheap cases, a few tenths of a second each; the first downloads, so the fixture server
# runs too.
FILTER = "overhead:dispatch/executor:(sequential|thread|pool)|wordcount-http/executor:sequential"
# The host watch off: a loaded machine (ctest -j2) would measure disturbed cases again, and this
# test counts the run's parts.
ARGS = ["--preset", "quick", "--", "--cbench_smoke", f"--benchmark_filter={FILTER}",
        "--cbench_host_limit=off",
        "--benchmark_min_time=0.3"]
CASES = 8
ENV = dict(os.environ, CBENCH_BUILD_DIR=str(BUILD_DIR))


def journal_cases(journal: Path) -> int:
    try:
        lines = journal.read_text().splitlines()
    except FileNotFoundError:
        return 0
    names = set()
    for line in lines:
        if line.startswith("[") and line.endswith("]"):
            for row in json.loads(line):
                names.add(row["run_name"])
    return len(names)


def wait_for(predicate, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)  # polling the file, not waiting in its place
    raise AssertionError(f"timed out waiting for {what}")


def descendants(root: int) -> set[int]:
    """Every process below root: the run, the fork server and its workers, the fixture server."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if state[state.rindex(")") + 2] != "Z":
            left.add(pid)
    return left


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line holds text: the run's binary and its forked workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class BenchInterruptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.runs = Path(self.tmp.name)

    def tearDown(self):
        for pid in processes_mentioning(self.tmp.name):
            os.kill(pid, signal.SIGKILL)  # only what this test started: they name its folder
        self.tmp.cleanup()

    def start(self, *extra):
        return subprocess.Popen([str(BENCH), "--no-build", "--runs-dir", str(self.runs), *extra],
                                env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

    def run_dir(self) -> Path:
        return wait_for(lambda: next(iter(sorted(self.runs.glob("*-*"))), None), "the run folder")

    def interrupt(self, how) -> tuple[subprocess.Popen, Path, str, str]:
        bench = self.start(*ARGS)
        run = self.run_dir()
        wait_for(lambda: journal_cases(run / "results.journal.jsonl") >= 2, "two finished cases")
        self.started = descendants(bench.pid)
        names = set()
        for pid in self.started:
            try:
                names.add(Path(f"/proc/{pid}/comm").read_text().strip())
            except OSError:
                continue
        # The run, its fork server and workers, and the fixture server (`cbench serve`).
        self.assertTrue({"cbench_bench", "cbench-forksrv", "cbench"} <= names, names)
        how(bench, run)
        out, err = bench.communicate(timeout=120)
        return bench, run, out, err

    def assert_partial(self, run: Path, err: str, what: str):
        match = re.search(rf"scripts/bench: {re.escape(what)} after (\d+) of (\d+) cases; "
                          r"partial results and report in (\S+);", err)
        self.assertIsNotNone(match, err)
        done, total = int(match.group(1)), int(match.group(2))
        self.assertEqual(total, CASES)
        self.assertGreaterEqual(done, 2)
        self.assertLess(done, CASES, "the run ended before it was interrupted")
        results = json.loads((run / "results.json").read_text())  # valid JSON
        self.assertEqual(len({b["run_name"] for b in results["benchmarks"]}), done)
        self.assertTrue((run / "report.html").is_file())
        self.assertTrue((run / "summary.md").is_file())
        wait_for(lambda: not processes_mentioning(str(run)), "the run's processes to end", 30)
        wait_for(lambda: not alive(self.started), "every process the run started to end", 30)
        return done

    def test_ctrl_c_keeps_every_finished_case_and_resume_runs_the_rest(self):
        bench, run, _, err = self.interrupt(lambda b, _: os.killpg(b.pid, signal.SIGINT))
        self.assertEqual(bench.returncode, 130, err)
        done = self.assert_partial(run, err, "interrupted (SIGINT)")
        print(re.search(r"scripts/bench: interrupted.*", err).group(0))

        resumed = subprocess.run([str(BENCH), "--no-build", "--resume", str(run)], env=ENV,
                                 capture_output=True, text=True, timeout=300)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn(f"{done} of {CASES} cases already measured", resumed.stderr)
        results = json.loads((run / "results.json").read_text())
        names = [b["run_name"] for b in results["benchmarks"] if b.get("run_type") == "iteration"]
        self.assertEqual(len(names), CASES)
        self.assertEqual(len(set(names)), CASES, "a case was measured twice")
        # The run, its resumption, and the sequential reference (wordcount-http's) measured again
        # twice, as every experiment's reference is (journal.py).
        self.assertEqual(results["context"]["cbench_parts"], "4")
        self.assertEqual(results["context"]["cbench_references_measured"], "1")

        # Nothing left: a second resume measures nothing and still writes the report.
        again = subprocess.run([str(BENCH), "--no-build", "--resume", str(run)], env=ENV,
                               capture_output=True, text=True, timeout=300)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("nothing left to run", again.stderr)

    def test_sigterm_to_the_script_alone_ends_the_run(self):
        bench, run, _, err = self.interrupt(lambda b, _: os.kill(b.pid, signal.SIGTERM))
        self.assertEqual(bench.returncode, 143, err)
        self.assert_partial(run, err, "interrupted (SIGTERM)")

    def test_a_crash_keeps_every_finished_case(self):
        def crash(_, run):
            binary = [p for p in processes_mentioning(str(run))
                      if (Path("/proc") / str(p) / "comm").read_text().strip() == "cbench_bench"]
            self.assertTrue(binary)
            os.kill(min(binary), signal.SIGSEGV)  # the run itself, not a forked worker

        bench, run, _, err = self.interrupt(crash)
        self.assertNotEqual(bench.returncode, 0, err)
        self.assert_partial(run, err, f"the benchmark run failed (exit {bench.returncode})")

    def test_resume_refuses_a_run_of_another_preset(self):
        bench, run, _, err = self.interrupt(lambda b, _: os.killpg(b.pid, signal.SIGINT))
        self.assertEqual(bench.returncode, 130, err)
        journal = run / "results.journal.jsonl"
        lines = journal.read_text().splitlines()
        header = json.loads(lines[0])
        self.assertEqual(header["context"]["cbench_preset"], "quick")
        header["context"]["cbench_preset"] = "full"
        journal.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
        refused = subprocess.run([str(BENCH), "--no-build", "--resume", str(run)], env=ENV,
                                 capture_output=True, text=True, timeout=300)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn('its cbench_preset is "full", this run\'s is "quick"', refused.stderr)
        self.assertIn("refused to resume", refused.stderr)
        bad = subprocess.run([str(BENCH), "--no-build", "--resume", str(self.runs / "none")],
                             env=ENV, capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("no such run folder", bad.stderr)

    def test_a_run_that_measured_nothing_says_so_with_the_binarys_status(self):
        bad = subprocess.run([str(BENCH), "--no-build", "--runs-dir", str(self.runs), "--preset",
                              "quick", "--", "--cbench_nonsense=1"],
                             env=ENV, capture_output=True, text=True, timeout=120)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("unknown flag --cbench_nonsense", bad.stderr)
        self.assertIn("the benchmark run failed (exit 2) before any case was measured", bad.stderr)

    def test_resume_takes_a_folder_relative_to_where_it_is_typed(self):
        bench, run, _, err = self.interrupt(lambda b, _: os.killpg(b.pid, signal.SIGINT))
        self.assertEqual(bench.returncode, 130, err)
        resumed = subprocess.run([str(BENCH), "--no-build", "--resume", run.name], env=ENV,
                                 cwd=run.parent, capture_output=True, text=True, timeout=300)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        results = json.loads((run / "results.json").read_text())
        self.assertEqual(len({b["run_name"] for b in results["benchmarks"]}), CASES)

    def test_two_runs_in_the_same_second_get_two_folders(self):
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or "unknown"
        # Every name the next seconds could take is already someone's: the run takes a suffix.
        now = time.time()
        taken = set()
        for second in range(0, 30):
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + second))
            (self.runs / f"{stamp}-{commit}").mkdir(exist_ok=True)
            taken.add(f"{stamp}-{commit}")
        quick = subprocess.run([str(BENCH), "--no-build", "--runs-dir", str(self.runs), "--preset",
                                "quick", "--", "--cbench_smoke",
                                "--benchmark_filter=overhead:dispatch/executor:sequential",
                                "--benchmark_min_time=0.01"],
                               env=ENV, capture_output=True, text=True, timeout=300)
        self.assertEqual(quick.returncode, 0, quick.stderr)
        made = [p.name for p in self.runs.iterdir() if p.name not in taken]
        self.assertEqual(len(made), 1, made)
        self.assertRegex(made[0], r"-2$")
        self.assertTrue((self.runs / made[0] / "results.json").is_file())

    def test_cases_measured_while_the_host_was_slow_are_measured_again_twice_at_most(self):
        # A limit below any probe: every case counts as disturbed, so each is measured three
        # times in all and marked as never clean; a limit of "off": none is measured again.
        args = ["--no-build", "--runs-dir", str(self.runs), "--preset", "quick", "--",
                "--cbench_smoke", "--cbench_workers=1,2",
                "--benchmark_filter=overhead:dispatch/executor:(sequential|pool)",
                "--benchmark_min_time=0.01"]
        slow = subprocess.run([str(BENCH), *args, "--cbench_host_limit=0.01"], env=ENV,
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(slow.returncode, 0, slow.stderr)
        self.assertIn("3 case(s) measured while the host was slow, or a sequential reference: measuring them "
                      "again (1 of 2)",
                      slow.stdout)
        self.assertIn("(2 of 2)", slow.stdout)
        run = self.run_dir()
        doc = json.loads((run / "results.json").read_text())
        self.assertEqual(len(doc["benchmarks"]), 3)  # each case once, its quietest measurement
        self.assertEqual(doc["context"]["cbench_remeasured"], "3")
        self.assertEqual(doc["context"]["cbench_never_clean"], "3")
        self.assertTrue(all(r["host_disturbed"] == 1 for r in doc["benchmarks"]))
        self.assertEqual(journal_cases(run / "results.journal.jsonl"), 3)
        self.assertIn("3 case(s) were measured again because the host was slow",
                      (run / "summary.md").read_text())
        for old in self.runs.iterdir():
            subprocess.run(["rm", "-rf", str(old)], check=True)
        quiet = subprocess.run([str(BENCH), *args, "--cbench_host_limit=off"], env=ENV,
                               capture_output=True, text=True, timeout=300)
        self.assertEqual(quiet.returncode, 0, quiet.stderr)
        self.assertNotIn("measuring them again", quiet.stdout)
        doc = json.loads((self.run_dir() / "results.json").read_text())
        self.assertNotIn("cbench_remeasured", doc["context"])
        self.assertTrue(all(r["host_disturbed"] == 0 for r in doc["benchmarks"]))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
