"""The original experiments' output lines, computed the way a Python user computes them.

usage: original.py wordcount DIR NAME...
       original.py pbkdf2 DIR ITERATIONS NAME...
DIR holds books/NAME.txt and stop-words/english.txt; one line is printed per NAME.
"""
import hashlib
import sys
from collections import Counter


def most_common_word(raw, stop_words):
    counter = Counter()
    for line in raw.splitlines(keepends=True):
        counter.update(line.decode("utf-8").lower().split())
    for w in stop_words:
        counter[w] = 0
    return counter.most_common(1)[0]


def main():
    mode, folder = sys.argv[1], sys.argv[2]
    if mode == "wordcount":
        with open(f"{folder}/stop-words/english.txt", encoding="utf-8") as f:
            stop_words = [line.strip() for line in f if line.strip()]
        for name in sys.argv[3:]:
            with open(f"{folder}/books/{name}.txt", "rb") as f:
                word, count = most_common_word(f.read(), stop_words)
            print(f'Most common word in {name} is "{word}" ({count} appearances)')
    elif mode == "pbkdf2":
        iterations = int(sys.argv[3])
        for name in sys.argv[4:]:
            with open(f"{folder}/books/{name}.txt", encoding="utf-8") as f:
                text = f.read()
            digest = hashlib.pbkdf2_hmac("sha512", text.encode(), b"salt", iterations).hex()
            print(f'Fingerprint for {name} is "{digest}"')
    else:
        sys.exit(f"unknown mode {mode}")


main()
