"""The report's files are whole or absent (files.py): a write that fails — a full disk, a
read-only folder — leaves no part of the file, keeps what was there, and is one line naming the
file with exit status 2."""
import contextlib
import errno
import io
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from unittest import mock

from helpers import FIXTURES, TempDirTest
from matplotlib.figure import Figure

from cbench_report import cli
from cbench_report.files import CannotWrite, whole, write_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def disk_full_after(calls: int):
    """A Figure.savefig that works `calls` times, then writes a part of its file and fails as a
    full disk does."""
    real = Figure.savefig
    count = {"n": 0}

    def savefig(self, fname, *args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            Path(fname).write_bytes(PNG_MAGIC + b"cut")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, fname, *args, **kwargs)
    return savefig


class WholeOrAbsent(TempDirTest):
    def test_a_failed_write_keeps_the_old_file_and_leaves_no_part(self):
        path = self.dir / "summary.md"
        path.write_text("before\n")
        with self.assertRaises(CannotWrite) as caught:
            with whole(path) as tmp:
                tmp.write_text("a part")
                raise OSError(errno.ENOSPC, "No space left on device")
        self.assertEqual(str(caught.exception), f"cannot write {path}: No space left on device")
        self.assertEqual(path.read_text(), "before\n")
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["summary.md"])

    def test_a_write_that_succeeds_replaces_the_file(self):
        path = self.dir / "summary.md"
        path.write_text("before\n")
        write_text(path, "after\n")
        self.assertEqual(path.read_text(), "after\n")
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["summary.md"])

    def test_report_on_a_disk_that_fills_names_the_file_and_leaves_whole_charts_only(self):
        out = self.dir / "report"
        stderr = io.StringIO()
        with mock.patch.object(Figure, "savefig", disk_full_after(5)), \
                contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["report", str(FIXTURES / "run" / "results.json"), "-o", str(out)])
        self.assertEqual(status, 2)
        lines = stderr.getvalue().strip().splitlines()
        self.assertEqual(len(lines), 1, stderr.getvalue())
        self.assertIn("cannot write ", lines[0])
        self.assertIn(str(out), lines[0])
        self.assertIn("No space left on device", lines[0])
        names = sorted(p.name for p in out.iterdir())
        self.assertEqual(len(names), 5, names)  # the charts written before the disk filled
        self.assertFalse([n for n in names if "partial" in n], names)
        self.assertNotIn("report.html", names)
        for path in out.iterdir():
            if path.suffix == ".png":
                self.assertTrue(path.read_bytes().startswith(PNG_MAGIC))
                self.assertGreater(path.stat().st_size, 1000)
            else:
                ElementTree.parse(path)  # whole SVG

    def test_report_into_a_folder_it_cannot_make(self):
        blocker = self.dir / "a-file"
        blocker.write_text("")
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["report", str(FIXTURES / "run" / "results.json"),
                               "-o", str(blocker / "report")])
        self.assertEqual(status, 2)
        self.assertIn(f"cannot make the folder {blocker / 'report'}", stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
