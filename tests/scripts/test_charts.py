"""plot and report: every chart as a valid PNG and SVG, the HTML page embedding each, the
Markdown summary; fixed colours and line styles across charts."""
import tempfile
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from helpers import FIXTURES, run_cli_many

from cbench_report.charts import run_charts
from cbench_report.load import load_run
from cbench_report import registry
from cbench_report.style import executor_colour, executor_rank, line_style
from cbench_report.trace import load_trace, trace_path

RUN = FIXTURES / "run" / "results.json"
STEMS = ["speedup-pbkdf2", "time-pbkdf2", "speedup-wordcount-http", "time-wordcount-http",
         "cpu-utilization", "overhead-dispatch", "interface-tax",
         "overhead-lifecycle", "overhead-memory", "granularity", "timeline-pbkdf2",
         "timeline-wordcount-http"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class PlotAndReportTest(unittest.TestCase):
    """``report`` draws every chart (and the page); ``plot`` is run on the small hand-made run,
    which has speedup and granularity charts only: drawing costs most of these tests' time."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.plot, cls.report = run_cli_many([("plot", FIXTURES / "hand.json", "-o", cls.dir / "charts"),
                                             ("report", RUN, "-o", cls.dir / "report")])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_charts(self, folder, stems):
        written = sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".svg"))
        self.assertEqual(written, sorted(f"{s}.{ext}" for s in stems for ext in ("png", "svg")))
        for stem in stems:
            with self.subTest(chart=stem):
                self.assertTrue((folder / f"{stem}.png").read_bytes().startswith(PNG_MAGIC))
                root = ElementTree.parse(folder / f"{stem}.svg").getroot()
                self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")

    def test_plot_writes_png_and_svg(self):
        self.assertEqual(self.plot.returncode, 0, self.plot.stderr)
        self.check_charts(self.dir / "charts", ["speedup-pbkdf2", "time-pbkdf2", "speedup-wordcount-http",
                                             "time-wordcount-http", "granularity"])
        self.assertEqual(len(self.plot.stdout.splitlines()), 10)  # the paths it wrote

    def test_every_chart_is_a_png_and_an_svg(self):
        self.assertEqual(self.report.returncode, 0, self.report.stderr)
        self.check_charts(self.dir / "report", STEMS)

    def test_html_report_embeds_every_chart(self):
        self.assertEqual(self.report.returncode, 0, self.report.stderr)
        html = (self.dir / "report" / "report.html").read_text()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        for stem in STEMS:
            with self.subTest(chart=stem):
                self.assertIn(f'<figure id="chart-{stem}"><img alt="', html)
        self.assertEqual(html.count('src="data:image/png;base64,'), len(STEMS))
        self.assertNotIn('src="http', html)  # self-contained
        self.assertIn("<h2 id=\"workload-pbkdf2\">", html)
        self.assertIn("testbox", html)  # the machine, from the context
        self.assertIn("cbench_task_seconds/pbkdf2", html)
        self.assertIn("<h3>C++ and Python</h3>", html)  # the peer's table, under pbkdf2

    def test_html_opens_with_the_answers(self):
        html = (self.dir / "report" / "report.html").read_text()
        fastest = html.index('<h2 id="fastest">Fastest per workload</h2>')
        self.assertLess(fastest, html.index('<h2 id="workload-pbkdf2">'))
        self.assertIn("<th>tied with it</th>", html)
        self.assertIn('<a href="#workload-pbkdf2">pbkdf2</a>', html)
        self.assertIn("max-width: 1200px", html)  # fits a 1,400-pixel window

    def test_markdown_summary(self):
        summary = (self.dir / "report" / "summary.md").read_text()
        self.assertIn("## cbench results", summary)
        self.assertIn("| workload | executor | W | time | speedup | efficiency |", summary)
        self.assertIn("| pbkdf2 |", summary)
        self.assertIn("### METG", summary)
        self.assertIn("| pool | 2 | 21.5 µs |", summary)

    def test_no_trace_no_timeline(self):
        stems = [c.stem for c in run_charts(load_run(RUN), [])]
        self.assertEqual(stems, [s for s in STEMS if not s.startswith("timeline-")])


class StyleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run = load_run(RUN)
        cls.charts = {c.stem: c for c in run_charts(run, load_trace(trace_path(RUN)))}

    def test_one_fixed_colour_per_executor(self):
        order = registry.current().order
        colours = [executor_colour(e) for e in order]
        self.assertEqual(len(set(colours)), len(order))
        self.assertEqual(executor_colour("somethingnew"), executor_colour("somethingnew"))

    def test_the_registry_of_the_run_decides_order_colours_and_reference(self):
        """A run's own registry (context cbench_executors) is what the report reads: a new
        executor gets a colour and a place of its own with nothing in the scripts changed."""
        before = registry.current()
        try:
            reg = registry.use({"cbench_executors": "plain:caller,a:threads,b:processes,c:threads",
                                "cbench_native_floors": "a-alone:a"})
            self.assertEqual(reg.reference(), "plain")
            self.assertEqual(reg.of_kind("threads"), ("a", "c"))
            self.assertEqual(reg.floor_of("a-alone"), "a")
            self.assertEqual(len({executor_colour(e) for e in reg.order}), 4)
            self.assertEqual(sorted(["c", "zzz", "plain", "b"], key=executor_rank),
                             ["plain", "b", "c", "zzz"])
        finally:
            registry._current = before

    def test_same_colour_on_every_chart(self):
        def colours(stem):
            found = {}
            for ax in self.charts[stem].figure.axes:
                for handle, label in zip(*ax.get_legend_handles_labels()):
                    line = handle.lines[0] if hasattr(handle, "lines") else handle  # error bars
                    found.setdefault(label, line.get_color())
            return found

        speedup, dispatch, granularity = (colours("speedup-pbkdf2"), colours("overhead-dispatch"),
                                          colours("granularity"))
        self.assertEqual(speedup["pool"], dispatch["pool"])
        self.assertEqual(speedup["pool"], granularity["pool (METG 21.5 µs)"])
        self.assertEqual(speedup["pool (Python)"], speedup["pool"])  # same colour as its model

    def test_speedup_panels_carry_at_most_seven_lines(self):
        figure = self.charts["speedup-pbkdf2"].figure
        for ax in figure.axes:
            lines = [label for label in ax.get_legend_handles_labels()[1]]
            self.assertLessEqual(len(lines), 8, lines)  # seven executors and the ideal at most
        titles = [ax.get_title() for ax in figure.axes]
        self.assertIn("Python, map: speedup over Python's sequential", titles)

    def test_python_dashed_and_modes_apart(self):
        self.assertEqual(line_style("pool", "map", "python")["linestyle"], "--")
        styles = {line_style("pool", m)["linestyle"] for m in ("map", "as-completed", "cold")}
        self.assertEqual(len(styles), 3)
        self.assertNotIn("--", styles)

    def test_titles_name_machine_corpus_and_preset(self):
        for stem, chart in self.charts.items():
            title = chart.figure.get_suptitle() if hasattr(chart.figure, "get_suptitle") \
                else chart.figure._suptitle.get_text()
            with self.subTest(chart=stem):
                for part in ("testbox (2 CPUs", "corpus generated", "preset standard"):
                    self.assertIn(part, title)

    def test_ideal_line_on_speedup_chart(self):
        top = self.charts["speedup-pbkdf2"].figure.axes[0]
        ideal = next(l for l in top.get_lines() if l.get_label() == "ideal (greedy schedule)")
        # pbkdf2's tasks (80 60 50 40 30 20 15 10 ms) on 2 cores: 305 ms of work, greedy
        # makespan 80+40+20+15 = 155 ms at W >= 2.
        self.assertAlmostEqual(list(ideal.get_ydata())[-1], 0.305 / 0.155)


if __name__ == "__main__":
    unittest.main()
