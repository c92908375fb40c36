"""Oracle for the eigenvalue workload: the same splitmix64 matrix, solved by NumPy.

usage: eigen.py SEED N BOTTOM TOP
prints: the largest eigenvalue's real and imaginary parts, then the sum of the entries
"""
import sys

import numpy as np

MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


seed, n, bottom, top = (int(a) for a in sys.argv[1:5])
draw = splitmix64(seed)
entries = [bottom + next(draw) % (top - bottom) for _ in range(n * n)]
matrix = np.array(entries, dtype=np.float64).reshape(n, n)
values = np.linalg.eigvals(matrix)
largest = max(values, key=lambda v: (v.real, v.imag))
print(repr(float(largest.real)), repr(float(largest.imag)), int(matrix.sum()))
