"""Oracle for the fingerprint workload: hashlib.pbkdf2_hmac on the book read in text mode.

usage: pbkdf2.py ITERATIONS [PATH]   (the book on standard input when PATH is absent)
"""
import hashlib
import io
import sys

iterations = int(sys.argv[1])
if len(sys.argv) > 2:
    with open(sys.argv[2], encoding="utf-8") as f:
        text = f.read()
else:
    # The same universal-newline translation a text-mode open() does.
    text = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8").read()
print(hashlib.pbkdf2_hmac("sha512", text.encode(), b"salt", iterations).hex())
