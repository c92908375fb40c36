"""The counted lens (counted.py, count_gate.py): callgrind's dumps and Valgrind's system-call
log read into counts per row, the counted stage's verdicts on injected changes, expected changes
named by a trailer, the functions that moved, and the gate end to end with fake_valgrind.py and
fake_bench.py standing in for Valgrind and the benchmark binaries."""
import json
import os
import subprocess
import unittest
from pathlib import Path

from helpers import HERE, FakeBenchTest, TempDirTest, fake_binary, run_cli

from cbench_report import count_gate, counted
from cbench_report.gate import REGRESSION, IMPROVEMENT

FAKE_VALGRIND = HERE / "fake_valgrind.py"

KEYS = [f"{w}/executor:{e}/mode:map/workers:{n}" for w in ("pbkdf2", "eigen", "wordcount")
        for e in ("sequential", "pool", "fork", "tbb") for n in (1, 2)]


def counts(scale=lambda key: 1.0):
    return {k: 1_000_000 * (1 + i % 7) * scale(k) for i, k in enumerate(KEYS)}


class JudgeTest(unittest.TestCase):
    def test_the_same_counts_pass(self):
        result = count_gate.judge(counts(), counts())
        self.assertEqual(result.verdicts, [])
        self.assertEqual(result.rows, len(KEYS))

    def test_two_percent_more_work_in_one_kind_is_named_for_every_executor(self):
        b = counts(lambda k: 1.02 if k.startswith("pbkdf2/") else 1.0)
        result = count_gate.judge(counts(), b)
        self.assertEqual([v.describe() for v in result.regressions],
                         ["regression: pbkdf2 (every executor) +2.0% instructions per task "
                          "(counted)"])

    def test_one_executors_dispatch_is_named_with_it(self):
        b = counts(lambda k: 1.5 if "executor:fork/" in k else 1.0)
        result = count_gate.judge(counts(), b)
        self.assertEqual({(v.workload, v.executors) for v in result.regressions},
                         {(w, ("fork",)) for w in ("pbkdf2", "eigen", "wordcount")})

    def test_a_change_within_the_spread_or_threshold_is_not_a_verdict(self):
        b = counts(lambda k: 1.005)
        self.assertEqual(count_gate.judge(counts(), b).verdicts, [])
        b = counts(lambda k: 1.02 if k.startswith("pbkdf2/") else 1.0)
        spreads = count_gate.Spreads({"instructions": {"pbkdf2": 0.02}})
        self.assertEqual(count_gate.judge(counts(), b, spreads=spreads).verdicts, [])
        # A family whose own spread is beyond the limit is left to the timing lens.
        b = counts(lambda k: 3.0 if "executor:tbb/" in k else 1.0)
        spreads = count_gate.Spreads({"instructions": {"eigen/tbb": 0.3}})
        result = count_gate.judge(counts(), b, spreads=spreads)
        self.assertIn("eigen/tbb", result.unjudged)
        self.assertEqual({v.workload for v in result.regressions}, {"pbkdf2", "wordcount"})

    def test_one_more_system_call_per_task_is_named_with_its_executor(self):
        a = {m: counts() for m in count_gate.METRICS}
        a["syscalls"] = {k: 1.0 for k in KEYS}
        b = {"instructions": counts(lambda k: 1.001),
             "syscalls": {k: 2.0 if "executor:pool/" in k else 1.0 for k in KEYS}}
        result = count_gate.judge_both(a, b)
        self.assertEqual(sorted(v.describe() for v in result.regressions),
                         [f"regression: {w} (executor pool) +1.00 system calls per task (counted)"
                          for w in ("eigen", "pbkdf2", "wordcount")])

    def test_less_work_is_an_improvement_and_expected_changes_do_not_fail(self):
        b = counts(lambda k: 0.9 if k.startswith("eigen/") else 1.0)
        result = count_gate.judge(counts(), b)
        self.assertEqual([(v.kind, v.workload) for v in result.verdicts], [(IMPROVEMENT, "eigen")])
        self.assertEqual(result.regressions, [])
        b = counts(lambda k: 1.1 if k.startswith("pbkdf2/") else 1.0)
        result = count_gate.judge(counts(), b, expected=["pbkdf2"])
        self.assertEqual([(v.kind, v.expected) for v in result.verdicts], [(REGRESSION, True)])
        self.assertEqual(result.regressions, [])
        self.assertIn("expected", result.verdicts[0].describe())


class ReadTest(TempDirTest):
    def dump(self, name, pid, label, total, functions=()):
        body = "".join(f"fn={f}\n0 {c}\ncfn=callee\ncalls=1 0\n0 999\n\n" for f, c in functions)
        desc = f"Client Request: {label}" if label else "Program termination"
        (self.dir / name).write_text(f"version: 1\npid: {pid}\ndesc: Trigger: {desc}\n\n"
                                     f"events: Ir\n{body}totals: {total}\n")

    def test_a_rows_count_is_its_region_and_its_workers_lives(self):
        self.dump("cg.10.1", 10, "cbench-count|prime|", 999)
        self.dump("cg.10.2", 10, "cbench-count|1|", 500)
        self.dump("cg.10.3", 10, "cbench-count|2|11,12", 300)
        self.dump("cg.11", 11, "", 1000)
        self.dump("cg.12", 12, "", 2000)
        (self.dir / "valgrind.10.log").write_text(
            "**10** cbench-count: begin\n**10** cbench-count: end cbench-count|prime|\n"
            "**10** cbench-count: begin\nSYSCALL[10,1](1) sys_write ( 1 ) --> Success(0x1)\n"
            "SYSCALL[10,2](202) sys_futex ( 0x1 ) --> [async] ... \n"
            "SYSCALL[10,2](202) ... [async] --> Success(0x0) \n"
            "**10** cbench-count: end cbench-count|1|\n"
            "**10** cbench-count: begin\n**10** cbench-count: end cbench-count|2|11,12\n")
        (self.dir / "valgrind.11.log").write_text(
            "SYSCALL[11,1](0) sys_read ( 3 )\n**11** cbench-count: begin\n"
            "SYSCALL[11,1](0) sys_read ( 3 )\nSYSCALL[11,1](1) sys_write ( 3 )\n")
        doc = {"context": {}, "benchmarks": [
            {"name": "wordcount/executor:pool/mode:map/workers:1/iterations:1/process_time/real_time",
             "count_region": 1, "count_tasks": 10},
            {"name": "wordcount/executor:fork/mode:map/workers:2/iterations:1/process_time/real_time",
             "count_region": 2, "count_tasks": 10},
            {"name": "overhead:lifecycle/executor:pool/workers:1/iterations:1", "count_region": 3}]}
        found = counted.case_counts(doc, counted.read_dumps(self.dir),
                                    counted.read_syscalls(self.dir))
        pool, fork = found[doc["benchmarks"][0]["name"]], found[doc["benchmarks"][1]["name"]]
        self.assertEqual((pool.instructions, pool.syscalls), (500, 2))
        self.assertEqual((fork.instructions, fork.syscalls), (3300, 2))
        self.assertEqual(len(found), 2)  # lifecycle rows are not counted
        rows = counted.attach(doc, found)["benchmarks"]
        self.assertEqual(rows[1]["instructions_per_task"], 330)
        self.assertNotIn("count_region", rows[0])

    def test_a_region_without_a_dump_or_a_cut_dump_is_unusable(self):
        doc = {"benchmarks": [{"name": "x/executor:pool/workers:1", "count_region": 4}]}
        with self.assertRaisesRegex(counted.UnusableInput, "region 4 wrote no dump"):
            counted.case_counts(doc, [])
        (self.dir / "cg.9").write_text("version: 1\npid: 9\nfn=main\n0 12\n")
        self.assertEqual(counted.read_dumps(self.dir), [])  # still being written: left out
        doc = {"benchmarks": [{"name": "x/executor:fork/workers:1", "count_region": 1}]}
        self.dump("cg.8.1", 8, "cbench-count|1|9", 100)
        with self.assertRaisesRegex(counted.UnusableInput, "worker process 9 wrote no whole"):
            counted.case_counts(doc, counted.read_dumps(self.dir))

    def test_function_changes_name_the_functions_that_moved(self):
        self.dump("a", 1, "", 0, [("hash", 1000), ("dispatch", 50), ("same", 7)])
        self.dump("b", 1, "", 0, [("hash", 1200), ("dispatch", 40), ("same", 7), ("new", 5)])
        changes = counted.function_changes([self.dir / "a"], [self.dir / "b"])
        self.assertEqual(changes, [("hash", 1000, 1200), ("dispatch", 50, 40), ("new", 0, 5)])


class CountedGateCliTest(FakeBenchTest):
    def setUp(self):
        super().setUp()
        os.environ["CBENCH_VALGRIND"] = str(FAKE_VALGRIND)

    def gate(self, a, b, *more):
        return run_cli("gate", "--builds", a, b, "--pairs", "4", "--confirm-pairs", "4",
                       "--seed", "5", "--no-profile", "-o", self.dir / "out", *more,
                       "--", "--benchmark_min_time=0.01")

    def test_more_work_is_flagged_by_the_counted_lens_with_its_functions(self):
        a = fake_binary(self.dir / "a", "--fake_label=A")
        b = fake_binary(self.dir / "b", "--fake_label=B", "--fake_work=1.02",
                        "--fake_work_only=pbkdf2")
        result = self.gate(a, b)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("regression: pbkdf2 (every executor) +2.0% instructions per task (counted)",
                      result.stdout)
        self.assertIn("work_pbkdf2:", result.stdout)
        self.assertIn("gate: no regression", result.stdout)  # time saw nothing
        self.assertRegex(result.stderr, r"stage counted: \d+ s")
        self.assertRegex(result.stdout, r"durations: counted \d+ s, screening \d+ s")
        saved = json.loads((self.dir / "out" / "gate.json").read_text())
        self.assertEqual([v["workload"] for v in saved["counted"]["verdicts"]], ["pbkdf2"])
        # Judged again from what was written, and named as expected on request.
        again = run_cli("gate", "--pairs-dir", self.dir / "out", "--no-profile")
        self.assertEqual(again.returncode, 1, again.stderr)
        again = run_cli("gate", "--pairs-dir", self.dir / "out", "--no-profile",
                        "--expected-change", "pbkdf2")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("expected, named by a commit's Cbench-Expected-Change", again.stdout)

    def test_same_binary_passes_both_lenses(self):
        a = fake_binary(self.dir / "a", "--fake_label=A")
        result = self.gate(a, a, "--markdown")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("Counted lens: no counted regression", result.stdout)

    def test_without_valgrind_the_gate_says_so_and_judges_by_time(self):
        os.environ["CBENCH_VALGRIND"] = str(self.dir / "no-valgrind-here")
        a = fake_binary(self.dir / "a", "--fake_label=A")
        result = self.gate(a, a)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("counted lens: unavailable: valgrind is not installed", result.stderr)
        self.assertIn("counted lens: not run; time alone judged this gate", result.stdout)

    def test_an_instruction_valgrind_does_not_know_is_one_line_and_time_alone(self):
        a = fake_binary(self.dir / "a", "--fake_label=A", "--fake_unknown_instruction")
        result = self.gate(a, a)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("valgrind does not know an instruction", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_count_command_prints_each_row_and_the_spread(self):
        a = fake_binary(self.dir / "a", "--fake_label=A", "--fake_syscall_extra=pool")
        result = run_cli("count", "--binary", a, "--runs", "2", "-o", self.dir / "count")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("A/A spread over 2 runs", result.stdout)
        self.assertNotIn("beyond the limit", result.stdout)
        doc = json.loads((self.dir / "count" / "run-0" / counted.COUNTED_JSON).read_text())
        calls = {r["name"].split("/")[1]: r["syscalls_per_task"] for r in doc["benchmarks"]
                 if "syscalls_per_task" in r}
        self.assertEqual((calls["executor:pool"], calls["executor:sequential"]), (2.0, 1.0))
        self.assertEqual(run_cli("count", "--binary", a, "--runs", "0").returncode, 2)


class PerTaskTableTest(unittest.TestCase):
    def test_each_dispatch_row_with_its_switches_and_the_counted_runs_figures(self):
        from helpers import FIXTURES

        from cbench_report.load import load_run
        from cbench_report.per_task import per_task_note, per_task_rows

        run = load_run(FIXTURES / "run" / "results.json")
        counted_doc = {"context": {"cbench_commit": "abcdef1234567890", "date": "2026-12-07",
                                   "cbench_counted": "callgrind, valgrind-3.19.0"},
                       "benchmarks": [{"name": "overhead:dispatch/executor:pool/workers:1/"
                                               "iterations:1/process_time/real_time",
                                       "instructions_per_task": 271.4,
                                       "syscalls_per_task": 0.0002}]}
        rows = {(r[0], r[1]): r for r in per_task_rows(run, counted_doc)}
        self.assertEqual(rows[("pool", "1")][5:], ["271", "0.0002"])
        self.assertEqual(rows[("sequential", "1")][5:], ["–", "–"])
        note = per_task_note(counted_doc, Path("results/counted/x/run-0/counted.json"))
        self.assertIn("commit abcdef123456", note)
        self.assertIn("not from this run", note)
        self.assertIn("none was found", per_task_note(None, None))


if __name__ == "__main__":
    unittest.main()
