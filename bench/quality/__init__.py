"""Retrieval-quality evaluation: question sets, converters from ``../shared/data``, the runner.

    python -m bench.quality.run [--part test|tune] [--sets ...]   # every set, test part, dense baseline
    python -m bench.quality.gate [--record]                        # what CI holds the engine to
    python -m bench.quality.split                                  # record splits of new questions

Hand-written question files (no article text beyond short answer strings), every line with its
recorded ``split`` (tune or test):

* ``sample.jsonl``: questions about the shipped sample article, every section of it;
* ``foreign_affairs.jsonl``: questions about the mixed IndoSum/BBC/Detik corpora, each naming
  its article(s) by ``gold_urls`` and its answer strings, with kind and tags;
* ``off_topic.jsonl``: questions no article answers, ``far`` ones and ``near-miss`` ones.

Converters read the shared data in place and write a corpus in the project's JSON Lines article
format plus a question file (``python -m bench.quality.facqa|tydiqa|panl|squad_crossling OUTDIR``,
``python -m bench.quality.mixed OUTDIR --profile medium|large``); ``squad_crossling`` is the
held-out set. Outputs belong under ``bench/out/`` (git-ignored) or a temporary folder: article
text stays its publishers' and is never committed.
"""
