"""Write ``index/search/lexicon/en_id.tsv`` from FreeDict's English-Indonesian dictionary.

    apt-get download dict-freedict-eng-ind && dpkg -x dict-freedict-eng-ind_*.deb /tmp/fd
    .venv/bin/python scripts/lexicon_from_freedict.py /tmp/fd/usr/share/dictd/freedict-eng-ind.dict.dz

FreeDict eng-ind (2022.11.18, made by WikDict from Wiktionary; CC BY-SA 3.0) lists ~10,000
English headwords with their Indonesian translations. Kept: one-word headwords and one-word
translations (what a question's word and a passage's word can be matched by), lowercased,
each with its Snowball stem (``lexicon.stem``), so a process does not stem 20,000 words to start.
"""

from __future__ import annotations

import gzip
import re
import sys

from foreign_desk.index.search.lexicon import HEADER, LEXICON, stem

HEAD = re.compile(r"^(?P<word>[^/<\s][^/<]*?) (?:/[^<]*/ )?<(?P<pos>[\w ]+)>$")
SENSE = re.compile(r"^\s*\d+\.\s*")
NEXT_SENSE = re.compile(r"\s+\d+\.$")
WORD = re.compile(r"^[a-z]+$")


def entries(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Each entry's headword and the lines after it (translation lines, then glosses)."""
    found: list[tuple[str, list[str]]] = []
    for line in lines:
        head = HEAD.match(line)
        if head:
            found.append((head["word"].strip().lower(), []))
        elif found:
            found[-1][1].append(line)
    return found


def translations(body: list[str]) -> set[str]:
    """One-word translations: the first line, and every line that opens a numbered sense."""
    out: set[str] = set()
    for n, line in enumerate(body):
        if n == 0 or SENSE.match(line):
            for part in NEXT_SENSE.sub("", SENSE.sub("", line)).split(","):
                word = part.strip().lower()
                if WORD.match(word):
                    out.add(word)
    return out


def main(source: str) -> None:
    with gzip.open(source, "rt", encoding="utf-8") as dictionary:
        text = dictionary.read().split("\n")
    pairs = sorted({(en, tr) for en, body in entries(text) if WORD.match(en) for tr in translations(body)})
    rows = (f"{en}\t{tr}\t{stem(en, 'en')}\t{stem(tr, 'id')}\n" for en, tr in pairs)
    LEXICON.write_text(HEADER + "".join(rows), encoding="utf-8")
    print(f"{len(pairs)} pairs -> {LEXICON}")


if __name__ == "__main__":
    main(sys.argv[1])
