"""Retrieval-quality benchmarks: converters from ``../shared/data`` and hand-written question files.

Each converter reads the shared data in place and writes a corpus in the project's JSON Lines
article format plus a question file for ``foreign-desk eval``::

    python -m bench.quality.facqa OUTDIR [--limit N] [--distractors N]
    python -m bench.quality.tydiqa OUTDIR [--limit N]
    python -m bench.quality.panl OUTDIR [--limit N]
    python -m bench.quality.squad_crossling OUTDIR        # held out: final measurement only
    python -m bench.quality.mixed OUTDIR [--profile gate|full|all]

The shared data folder is ``$FOREIGN_DESK_SHARED_DATA`` or ``../shared/data`` next to the
repository. Outputs belong under ``bench/out/`` (git-ignored) or a temporary folder: article
text stays its publishers' and is never committed.

``foreign_affairs.jsonl`` (questions written for the mixed corpus, each naming its article by
``article_url`` or ``article_path``) and ``off_topic.jsonl`` (questions no article answers)
live here and contain no article text beyond short answer strings.
"""
