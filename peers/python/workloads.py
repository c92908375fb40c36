"""The experiments' work, written as a Python user writes it (docs/design.md, "Workload semantics").

Plain module-level functions, so a ProcessPoolExecutor can pickle them.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import time
import urllib.request
from collections import Counter

import numpy as np

# ---- E1 count ------------------------------------------------------------------------------


def count(start, end, interval, echo=False):
    numbers = []
    for i in range(start, end):
        if echo:
            print(i)
        numbers.append(i)
        time.sleep(interval)
    return numbers


async def count_async(start, end, interval, echo=False):
    numbers = []
    for i in range(start, end):
        if echo:
            print(i)
        numbers.append(i)
        await asyncio.sleep(interval)
    return numbers


# ---- E2', E2 most common word ----------------------------------------------------------------


def count_lines(lines, counter=None):
    counter = Counter() if counter is None else counter
    for line in lines:
        counter.update(line.decode("utf-8").lower().split())
    return counter


def most_common(counter, stop_words):
    for w in stop_words:
        counter[w] = 0  # stop words stay in the counter with 0
    word, n = counter.most_common(1)[0]
    return word, n


def most_common_word(raw_bytes, stop_words):
    return most_common(count_lines(raw_bytes.splitlines(keepends=True)), stop_words)


def most_common_word_url(url, stop_words):
    with urllib.request.urlopen(url, timeout=60) as response:
        return most_common(count_lines(response), stop_words)


async def most_common_word_aiohttp(session, url, stop_words):
    counter = Counter()
    async with session.get(url) as response:
        response.raise_for_status()
        async for line in response.content:  # whole lines, as `for line in response` does
            counter.update(line.decode("utf-8").lower().split())
    return most_common(counter, stop_words)


# ---- E4 pbkdf2 -------------------------------------------------------------------------------


def fingerprint(raw_bytes, iterations):
    # What open(path).read() gives: UTF-8 with universal newlines.
    text = io.TextIOWrapper(io.BytesIO(raw_bytes), encoding="utf-8").read()
    return hashlib.pbkdf2_hmac("sha512", text.encode(), b"salt", iterations).hex()


# ---- E5 eigen --------------------------------------------------------------------------------

MASK = (1 << 64) - 1


def splitmix64(seed, count):
    """`count` draws of splitmix64 seeded with `seed`, as uint64 (vectorised: state_k = seed + k·γ)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def random_matrix(seed, n, bottom=0, top=9):
    entries = bottom + (splitmix64(seed, n * n) % np.uint64(top - bottom)).astype(np.int64)
    return entries.astype(np.float64).reshape(n, n)  # row-major, as the C++ draws it


def largest_eigenvalue(seed, n, bottom=0, top=9):
    values = np.linalg.eigvals(random_matrix(seed, n, bottom, top))
    largest = max(values, key=lambda v: (v.real, v.imag))
    return complex(largest)


# ---- E6 double -------------------------------------------------------------------------------


def double(x):
    return 2 * x


# ---- E7 wordfreq -----------------------------------------------------------------------------

ASCII_SPACE = frozenset(list(range(0x09, 0x0E)) + list(range(0x1C, 0x21)))


def split_at_whitespace(text: bytes, parts: int) -> list[bytes]:
    """`parts` pieces cut at the first ASCII white space at or after each k/parts mark (as C++)."""
    n, begin, pieces = len(text), 0, []
    for k in range(1, parts):
        cut = max(n * k // parts, begin)
        while cut < n and text[cut] not in ASCII_SPACE:
            cut += 1
        pieces.append(text[begin:cut])
        begin = cut
    pieces.append(text[begin:])
    return pieces


def word_frequencies(chunk):
    return count_lines(chunk.splitlines(keepends=True))


def top_words(counter, k=10):
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:k]
