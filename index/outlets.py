"""News outlets: recognised from a dateline, a URL or a loose name, and given one spelling.

Indonesian articles open with a dateline that names the outlet (``Jakarta, IDN Times - ``,
``Jakarta (ANTARA) - ``, ``TEMPO.CO, Jakarta - ``); wire copy does the same
(``KYIV, Ukraine (AP) — ``). One canonical name per outlet keeps ``--source`` filters and
the ``sources`` list from splitting ``antaranews`` and ``ANTARA News`` into two outlets.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# canonical name: (alias patterns, matched case-insensitively; web domains)
OUTLETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IDN Times": ((r"IDN ?Times(?:\.com)?",), ("idntimes.com",)),
    "Kompas": ((r"Kompas(?:\.com|\.id|TV)?", r"Harian Kompas"), ("kompas.com", "kompas.id", "kompas.tv")),
    "Detik": (
        (
            r"detik(?:com|news|finance|inet|sport|oto|health|travel|edu|hot|food|pop|jatim|jateng|jabar"
            r"|sumut|sulsel|bali|jogja|sumbagsel|kalimantan)?(?:\.com)?",
        ),
        ("detik.com",),
    ),
    "Tempo": ((r"Tempo(?:\.co)?(?:\.id)?", r"Koran Tempo"), ("tempo.co", "tempo.id")),
    "CNN Indonesia": ((r"CNN ?Indonesia(?:\.com)?",), ("cnnindonesia.com",)),
    "Antara": ((r"ANTARA(?: ?News)?(?:\.com)?", r"Antaranews(?:\.com)?"), ("antaranews.com",)),
    "Kumparan": ((r"kumparan(?:\.com)?(?:NEWS)?",), ("kumparan.com",)),
    "Merdeka": ((r"Merdeka(?:\.com)?",), ("merdeka.com",)),
    "Liputan6": ((r"Liputan ?6(?:\.com)?",), ("liputan6.com",)),
    "Republika": ((r"Republika(?:\.co\.id)?",), ("republika.co.id", "republika.id")),
    "VIVA": ((r"VIVA(?:news)?(?:\.co\.id)?",), ("viva.co.id",)),
    "Suara": ((r"Suara(?:\.com)?",), ("suara.com",)),
    "Okezone": ((r"Okezone(?:\.com)?",), ("okezone.com",)),
    "SINDOnews": ((r"SINDOnews(?:\.com)?", r"Sindo"), ("sindonews.com",)),
    "Tribunnews": ((r"Tribunnews(?:\.com)?", r"Tribun(?:news)?"), ("tribunnews.com",)),
    "JPNN": ((r"JPNN(?:\.com)?",), ("jpnn.com",)),
    "Bisnis.com": ((r"Bisnis\.com", r"Bisnis Indonesia"), ("bisnis.com",)),
    "Kontan": ((r"Kontan(?:\.co\.id)?",), ("kontan.co.id",)),
    "Katadata": ((r"Katadata(?:\.co\.id)?",), ("katadata.co.id",)),
    "Media Indonesia": ((r"Media ?Indonesia(?:\.com)?", r"MI"), ("mediaindonesia.com",)),
    "Beritasatu": ((r"Beritasatu(?:\.com)?",), ("beritasatu.com",)),
    "Pos Kota": ((r"Pos ?Kota(?:news)?",), ("poskotanews.com", "poskota.co.id")),
    "Juara": ((r"JUARA(?:\.net)?",), ("juara.net",)),
    "Rimanews": ((r"Rimanews(?:\.com)?",), ("rimanews.com",)),
    "The Jakarta Post": ((r"(?:The )?Jakarta ?Post",), ("thejakartapost.com",)),
    "Jakarta Globe": ((r"(?:The )?Jakarta ?Globe",), ("jakartaglobe.id",)),
    "VOA": ((r"VOA(?: Indonesia)?", r"Voice of America"), ("voaindonesia.com", "voanews.com")),
    "Reuters": ((r"Reuters",), ("reuters.com",)),
    "AP": ((r"AP", r"Associated Press"), ("apnews.com",)),
    "AFP": ((r"AFP", r"Agence France-Presse"), ("afp.com",)),
    "BBC": ((r"BBC(?: News)?(?: Indonesia)?",), ("bbc.com", "bbc.co.uk")),
    "CNN": ((r"CNN",), ("cnn.com",)),
    "Al Jazeera": ((r"Al ?Jazeera",), ("aljazeera.com",)),
    "The Guardian": ((r"(?:The )?Guardian",), ("theguardian.com",)),
    "The New York Times": ((r"(?:The )?New York Times", r"NYT"), ("nytimes.com",)),
    "Bernama": ((r"Bernama",), ("bernama.com",)),
    "Xinhua": ((r"Xinhua",), ("xinhuanet.com", "news.cn")),
    "Kyodo": ((r"Kyodo(?: News)?",), ("kyodonews.net",)),
    "Yonhap": ((r"Yonhap",), ("yna.co.kr",)),
    "Anadolu": ((r"Anadolu(?: Agency)?", r"AA"), ("aa.com.tr",)),
    "DW": ((r"DW", r"Deutsche Welle"), ("dw.com",)),
    "CNA": ((r"CNA", r"Channel NewsAsia"), ("channelnewsasia.com",)),
}

_DASH = r"\s*(?:-{1,3}|–|—)\s+"
_PLACE = r"(?P<place>[^\W\d_][\w .,'’/()-]{0,50}?)"


@dataclass(frozen=True, slots=True)
class Dateline:
    """The opening ``Place, Outlet - `` of a paragraph: who filed it, from where."""

    outlet: str
    place: str | None
    end: int
    """Offset where the paragraph's own text starts."""


@cache
def _alias_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (name, re.compile(rf"(?:{'|'.join(aliases)})", re.IGNORECASE))
        for name, (aliases, _) in OUTLETS.items()
    ]


@cache
def _dateline_patterns() -> tuple[re.Pattern[str], ...]:
    alias = "|".join(a for aliases, _ in OUTLETS.values() for a in aliases)
    outlet = rf"(?P<outlet>{alias})"
    return tuple(
        re.compile(p, re.IGNORECASE)
        for p in (
            rf"^\(\s*{outlet}\s*\){_DASH}",  # (ANTARA) -
            rf"^{_PLACE}\s*\(\s*{outlet}\s*\){_DASH}",  # Jakarta (ANTARA News) -  / KYIV, Ukraine (AP) —
            rf"^{_PLACE},\s*{outlet}{_DASH}",  # Jakarta, IDN Times -
            rf"^{outlet}(?:\s*,\s*{_PLACE})?{_DASH}",  # TEMPO.CO, Jakarta -  / Suara.com -
        )
    )


def canonical_outlet(name: str) -> str | None:
    """The house spelling of an outlet name (``antaranews`` → ``Antara``); unknown names are
    returned tidied, empty ones as ``None``."""
    tidy = " ".join(name.split())
    if not tidy:
        return None
    for canonical, pattern in _alias_patterns():
        if pattern.fullmatch(tidy):
            return canonical
    by_domain = outlet_from_url(tidy if "/" in tidy else f"http://{tidy}") if "." in tidy else None
    return by_domain or tidy


def outlet_from_url(url: str | None) -> str | None:
    """The outlet whose web domain serves ``url`` (``www.cnnindonesia.com/...`` → CNN Indonesia)."""
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for canonical, (_, domains) in OUTLETS.items():
        if any(host == d or host.endswith("." + d) for d in domains):
            return canonical
    return None


def parse_dateline(paragraph: str) -> Dateline | None:
    """Recognise a dateline naming a known outlet at the start of ``paragraph``.

    A bare place (``Jakarta - ``, detik's habit) is not a dateline here: without an outlet
    there is nothing to learn from it, and stripping it could eat a real opening word.
    """
    head = paragraph[:120]
    if "-" not in head and "–" not in head and "—" not in head:
        return None  # every dateline ends in a dash: most paragraphs are passed over here
    for pattern in _dateline_patterns():
        m = pattern.match(head)
        if m is None or m.end() >= len(paragraph):
            continue
        outlet = canonical_outlet(m["outlet"])
        if outlet is None:
            continue
        place = m.groupdict().get("place")
        return Dateline(outlet=outlet, place=place.strip(" ,") if place else None, end=m.end())
    return None


def strip_dateline(paragraph: str) -> str:
    """``paragraph`` without its outlet dateline, if it has one."""
    found = parse_dateline(paragraph)
    return paragraph[found.end :] if found else paragraph
