"""The benchmark binary registers the whole grid: every workload x executor x mode x worker
count of the preset, the overheads and the granularity sweep, with names the scripts can split.

usage: test_bench_grid.py CBENCH CBENCH_BENCH
"""
import json
import re
import subprocess
import sys
import unittest

CLI, BENCH = sys.argv[1], sys.argv[2]


def listed(*flags):
    out = subprocess.run([BENCH, "--cbench_smoke", "--benchmark_list_tests=true", *flags],
                         check=True, capture_output=True, text=True).stdout
    # Google Benchmark's own segments (min_time:, iterations:, process_time/real_time) go.
    names = set()
    for line in out.splitlines():
        parts = [p for p in line.strip().split("/")
                 if p and not re.match(r"(min_time|iterations|repeats):", p)
                 and p not in ("process_time", "real_time")]
        if parts:
            names.add("/".join(parts))
    return names


def section(text, title):
    """The first word of each indented line under `title:` in `cbench list`."""
    names, inside = [], False
    for line in text.splitlines():
        if not line.startswith("  "):
            inside = line == title + ":"
        elif inside:
            names.append(line.split()[0])
    return names


def registries():
    """`cbench list --json`: the workloads and the executors with their traits."""
    out = subprocess.run([CLI, "list", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


class Grid(unittest.TestCase):
    def test_every_workload_executor_mode_and_worker_count(self):
        listing = subprocess.run([CLI, "list"], check=True, capture_output=True, text=True).stdout
        workloads, executors = section(listing, "Workloads"), section(listing, "Executors")
        self.assertIn("wordcount-http", workloads)
        found = registries()
        self.assertEqual([w["name"] for w in found["workloads"]], workloads)
        traits = {e["name"]: e for e in found["executors"]}
        self.assertEqual(list(traits), executors)
        reference = [e for e in executors if traits[e]["workers"] == "caller"]
        self.assertEqual(len(reference), 1)
        names = listed("--cbench_preset=quick", "--cbench_workers=1,2,4")
        for w in found["workloads"]:
            if w["nested"]:
                continue  # test_nested_workloads_sweep_the_executors_with_fork_join
            w = w["name"]
            self.assertIn(f"{w}/executor:{reference[0]}/mode:map/workers:1", names)
            for e in executors:
                # Executors of a launcher join under mpirun only (tests/test_mpi.sh).
                if traits[e]["workers"] == "caller" or traits[e]["needs_launcher"]:
                    continue
                for n in (1, 2, 4):
                    for mode in ("map", "as-completed"):
                        self.assertIn(f"{w}/executor:{e}/mode:{mode}/workers:{n}", names)
                    cold = f"{w}/executor:{e}/mode:cold/workers:{n}"
                    if traits[e]["cold_mode"]:
                        self.assertIn(cold, names)
                    else:
                        self.assertNotIn(cold, names)
        for e in executors:
            if traits[e]["needs_launcher"]:
                self.assertFalse([n for n in names if f"executor:{e}/" in n])
                continue
            self.assertIn(f"overhead:dispatch/executor:{e}/workers:1", names)
            native = f"overhead:native/executor:{e}/workers:1"
            if traits[e]["native_floor"]:
                self.assertIn(native, names)
            else:
                self.assertNotIn(native, names)
            self.assertIn(f"granularity/executor:{e}/workers:1/task_us:1", names)
        self.assertIn("overhead:dispatch/executor:asio-co_spawn/workers:1", names)
        for w in (w["name"] for w in found["workloads"] if w["reads_files"]):
            self.assertIn(f"{w}/executor:pool/mode:cold-cache/workers:2", names)

    def test_the_scale_sweep_has_every_cpu_workload_at_every_scale(self):
        found = registries()
        traits = {e["name"]: e for e in found["executors"]}
        names = listed("--cbench_preset=quick", "--cbench_workers=1,2", "--cbench_scale=1,4",
                       "--benchmark_filter=^scale/")
        for w in found["workloads"]:
            mine = {n for n in names if n.startswith(f"scale/workload:{w['name']}/")}
            if w["work"] != "cpu" or w["nested"]:
                # Sleeps and downloads do not scale; nor do the nested trees, swept over W alone.
                self.assertEqual(mine, set(), w["name"])
                continue
            for e, t in traits.items():
                if t["needs_launcher"]:
                    continue
                rows = {n for n in mine if f"/executor:{e}/" in n}
                self.assertEqual({n.rsplit("/", 1)[1] for n in rows}, {"scale:1", "scale:4"}, e)
                workers = {n.split("/workers:")[1].split("/")[0] for n in rows}
                self.assertEqual(len(workers), 1)  # one worker count per executor
                if t["workers"] == "caller":
                    self.assertEqual(workers, {"1"})
        bad = subprocess.run([BENCH, "--cbench_scale=0", "--benchmark_list_tests=true"],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--cbench_scale", bad.stderr)

    def test_nested_workloads_sweep_the_executors_with_fork_join(self):
        found = registries()
        nested = [w["name"] for w in found["workloads"] if w["nested"]]
        self.assertEqual(sorted(nested), ["fib", "uts"])
        names = listed("--cbench_preset=quick", "--cbench_workers=1,2,4")
        for w in nested:
            for e in found["executors"]:
                if e["needs_launcher"]:
                    continue
                mine = {n for n in names if n.startswith(f"{w}/executor:{e['name']}/")}
                counts = (1,) if e["workers"] == "caller" else (1, 2, 4)
                expected = set()
                if e["fork_join"]:
                    expected |= {f"{w}/executor:{e['name']}/mode:fork-join/workers:{n}"
                                 for n in counts}
                    if e["fork_join_blocking"]:
                        expected |= {f"{w}/executor:{e['name']}/mode:blocking/workers:{n}"
                                     for n in counts}
                else:
                    # Listed, as not supported, rather than left out.
                    expected = {f"{w}/executor:{e['name']}/mode:not-supported/workers:1"}
                self.assertEqual(mine, expected, (w, e["name"]))
        for e in found["executors"]:
            native = {n for n in names if n.startswith(f"fib:native/executor:{e['name']}/")}
            if e["native_fib"] and not e["needs_launcher"]:
                self.assertIn(f"fib:native/executor:{e['name']}/workers:1", native)
            else:
                self.assertEqual(native, set(), e["name"])

    def test_filters_narrow_the_grid(self):
        names = listed("--cbench_workloads=pbkdf2", "--cbench_executors=pool", "--cbench_workers=3")
        self.assertEqual(names, {"pbkdf2/executor:pool/mode:map/workers:3",
                                 "pbkdf2/executor:pool/mode:as-completed/workers:3",
                                 "pbkdf2/executor:pool/mode:cold/workers:3"})

    def test_unknown_flags_are_errors(self):
        for flag in ("--cbench_nonsense=1", "--benchmark_nonsense=1", "--cbench_preset=huge",
                     "--cbench_workers=4:1", "--cbench_executors=gpu"):
            run = subprocess.run([BENCH, flag, "--benchmark_list_tests=true"],
                                 capture_output=True, text=True)
            self.assertNotEqual(run.returncode, 0, flag)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
