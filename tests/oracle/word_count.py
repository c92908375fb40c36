#!/usr/bin/env python3
"""Oracle for the word-count workloads: the reference Python loop given in docs/design.md,
"Workload semantics", run on the same bytes.

  word_count.py most-common STOP_WORDS_FILE < book
      "<word> <count>"  the most common word, counted exactly as the reference loop does
  word_count.py counter < text
      one "<count> <word>" line per Counter entry, in the Counter's (insertion) order
  word_count.py batch most-common STOP_WORDS_FILE < records
  word_count.py batch counter < records
  word_count.py batch decode < records
  word_count.py batch lower < records
      records are "<byte length>\\n<bytes>" repeated; each answer is "= <line count>\\n" and its
      lines. `decode` answers "ok" or the error of bytes.decode('utf-8'); `lower` answers
      "<hex of the UTF-8 of text.decode().lower()>".
  word_count.py unicode-table
      "space <hex code point>" for every c.isspace(), "lower <hex code point> <hex UTF-8>" for every
      code point whose lower() is not itself (surrogates excluded)

Words print as their UTF-8 bytes (they hold no white space, so a line splits at its last space).
An invalid text prints "invalid-utf8 <offset>", the offset of the first rejected byte in the
whole text (Python reports it per line; the line's start is added). A text with no words prints
"empty" (docs/design.md, "Workload semantics", makes it an error: Python's answer would depend on
the stop words' order).
"""

import sys
from collections import Counter


def count_words(raw_bytes, stop_words=()):
    counter = Counter()
    line_start = 0
    for line in raw_bytes.splitlines(keepends=True):
        try:
            counter.update(line.decode('utf-8').lower().split())
        except UnicodeDecodeError as error:
            raise ValueError(f"invalid-utf8 {line_start + error.start}") from None
        line_start += len(line)
    words = len(counter)
    for w in stop_words:
        counter[w] = 0  # stop words stay in the counter with 0
    return counter, words


def most_common(raw_bytes, stop_words):
    try:
        counter, words = count_words(raw_bytes, stop_words)
    except ValueError as error:
        return [str(error).encode()]
    if words == 0:
        return [b"empty"]
    word, count = counter.most_common(1)[0]
    return [word.encode('utf-8') + b" " + str(count).encode()]


def whole_counter(raw_bytes):
    try:
        counter, _ = count_words(raw_bytes)
    except ValueError as error:
        return [str(error).encode()]
    return [str(count).encode() + b" " + word.encode('utf-8') for word, count in counter.items()]


def decode(raw_bytes):
    try:
        raw_bytes.decode('utf-8')
    except UnicodeDecodeError as error:
        return [f"invalid-utf8 {error.start}".encode()]
    return [b"ok"]


def lower(raw_bytes):
    return [raw_bytes.decode('utf-8').lower().encode('utf-8').hex().encode()]


def read_stop_words(path):
    with open(path, encoding='utf-8') as f:
        return [w for w in (line.strip() for line in f) if w]


def records(stream):
    while True:
        header = stream.readline()
        if not header:
            return
        length = int(header)
        data = stream.read(length)
        assert len(data) == length, "truncated record"
        yield data


def unicode_table():
    out = []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        if ch.isspace():
            out.append(f"space {c:x}")
        if ch.lower() != ch:
            out.append(f"lower {c:x} {ch.lower().encode('utf-8').hex()}")
    return [line.encode() for line in out]


def main(argv):
    out = sys.stdout.buffer
    if argv[:1] == ["unicode-table"]:
        out.write(b"\n".join(unicode_table()) + b"\n")
        return 0
    batch = argv[:1] == ["batch"]
    if batch:
        argv = argv[1:]
    mode, args = argv[0], argv[1:]
    if mode == "most-common":
        stop_words = read_stop_words(args[0])
        answer = lambda data: most_common(data, stop_words)
    elif mode == "counter":
        answer = whole_counter
    elif mode == "decode" and batch:
        answer = decode
    elif mode == "lower" and batch:
        answer = lower
    else:
        sys.exit(f"word_count.py: unknown mode {argv}")
    if not batch:
        out.write(b"\n".join(answer(sys.stdin.buffer.read())) + b"\n")
        return 0
    for data in records(sys.stdin.buffer):
        lines = answer(data)
        out.write(f"= {len(lines)}\n".encode())
        for line in lines:
            out.write(line + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
