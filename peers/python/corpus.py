"""The 8 books and the stop words, found the way the C++ finds them (docs/design.md, "Workload
semantics").

--fixtures DIR, else CBENCH_FIXTURES, else whatever the C++ CLI uses (its fetched copy or its
generated corpus), downloaded once from `cbench serve` so both sides count the same bytes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "fixtures" / "manifest.tsv"
STOP_WORDS_PATH = "stop-words/english.txt"


def manifest() -> list[tuple[str, str]]:
    """(path, sha256) of each manifest line: the books in canonical order, then the stop words."""
    entries = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            path, _bytes, sha, _url = line.split("\t")
            entries.append((path, sha))
    return entries


def canonical_book_names() -> list[str]:
    return [Path(p).stem for p, _ in manifest() if p.startswith("books/")]


@dataclass
class Corpus:
    kind: str  # real, custom or generated
    origin: str
    books: dict[str, bytes]  # name -> raw bytes, in canonical order
    stop_words_text: bytes

    @property
    def stop_words(self) -> list[str]:
        return [w for w in (line.strip() for line in self.stop_words_text.decode().splitlines()) if w]

    @property
    def checksum(self) -> str:
        """SHA-256 of one "<sha256>  <path>" line per file, as fixtures/corpus.cpp lists them."""
        lines = [f"{hashlib.sha256(text).hexdigest()}  books/{name}.txt\n"
                 for name, text in self.books.items()]
        lines.append(f"{hashlib.sha256(self.stop_words_text).hexdigest()}  {STOP_WORDS_PATH}\n")
        return hashlib.sha256("".join(lines).encode()).hexdigest()


def load_folder(folder: str | os.PathLike) -> Corpus:
    folder = Path(folder)
    if not (folder / "books").is_dir():
        raise FileNotFoundError(f"{folder} is not a corpus folder (it has no books/ folder)")
    canonical = canonical_book_names()
    others = sorted(p.stem for p in (folder / "books").glob("*.txt") if p.stem not in canonical)
    books = {name: (folder / "books" / f"{name}.txt").read_bytes() for name in canonical + others}
    stop_words = (folder / STOP_WORDS_PATH).read_bytes()
    listing = [(f"books/{n}.txt", hashlib.sha256(t).hexdigest()) for n, t in books.items()]
    listing.append((STOP_WORDS_PATH, hashlib.sha256(stop_words).hexdigest()))
    kind = "real" if listing == manifest() else "custom"
    return Corpus(kind, str(folder), books, stop_words)


class FixtureServer:
    """`cbench serve` as a context manager: its stdin is a pipe, closing it stops the server."""

    def __init__(self, cli: str, profile: str = "quick", fixtures: str | None = None):
        self.args = [cli, "serve", "--profile", profile, "--stop-on-stdin-eof"]
        if fixtures:
            self.args += ["--fixtures", str(fixtures)]

    def __enter__(self) -> "FixtureServer":
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        ready = self.process.stdout.readline()
        if "listening on " not in ready:
            self.__exit__()
            raise RuntimeError(f"cbench serve did not start: {ready!r}")
        self.url = ready.split("listening on ", 1)[1].split()[0]
        self.books_url = self.url + "books/{}.txt"
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def book_url(template: str, name: str) -> str:
    return template.replace("{}", urllib.parse.quote(name))


def load_from_cli(cli: str) -> Corpus:
    """The corpus the C++ CLI would use, downloaded from its fixture server."""
    with FixtureServer(cli, profile="lan") as server:
        books = {}
        for name in canonical_book_names():
            with urllib.request.urlopen(book_url(server.books_url, name)) as response:
                books[name] = response.read()
        with urllib.request.urlopen(server.url + STOP_WORDS_PATH) as response:
            stop_words = response.read()
    return Corpus("generated", f"from {cli} serve", books, stop_words)


def load_corpus(fixtures: str | None = None, cli: str | None = None) -> Corpus:
    folder = fixtures or os.environ.get("CBENCH_FIXTURES")
    if folder:
        return load_folder(folder)
    cli = cli or os.environ.get("CBENCH_CLI")
    if not cli:
        raise RuntimeError("no corpus: pass --fixtures DIR, set CBENCH_FIXTURES, or set CBENCH_CLI "
                           "so the C++ CLI can serve its corpus")
    return load_from_cli(cli)
