"""cbench_report: turns the Google Benchmark JSON of cbench into numbers, charts, reports and a
regression verdict.

Pure functions, one job per module (``names`` parses our benchmark names, ``load`` reads and
validates a run, ``ideal``/``scaling``/``metg`` compute speedup, efficiency and METG, ``stats``
holds the statistics, ``compare`` is the regression gate, ``builds`` runs two builds in turn,
``charts``/``html``/``markdown`` render, ``history`` keeps runs over commits), under one thin
argparse CLI (``cli``) started by ``scripts/report``. The JSON format is docs/results-format.md.
"""
