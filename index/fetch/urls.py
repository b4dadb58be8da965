"""Canonical URLs: one string per article however a feed, a share button or an AMP page spells it.

The canonical form is an identity key (dedupe, ``Article.key``), not a promise that the
string fetches better than the original. Rules, applied to http(s) URLs only:

* scheme and host lower-cased, trailing dot and default ports (``:80``, ``:443``) dropped,
  user name and password dropped, international host names written as IDNA (``xn--``);
* ``www.`` is **always dropped** (``www.tempo.co`` and ``tempo.co`` are one site; every
  outlet we read redirects one to the other), and so is an ``amp.`` sub-domain;
* AMP variants fold onto the article: ``/amp/`` path segments, a trailing ``/amp``,
  ``.amp.html`` / ``.amp``, ``?amp``, ``?amp=1``, ``?outputType=amp``, and Google AMP cache
  addresses (``*.cdn.ampproject.org/c/s/host/path``);
* tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``CMP``, ``wt_mc`` ... see
  ``TRACKING_PARAMS``) are removed; the rest are sorted by name, then value;
* the fragment is dropped; an empty path becomes ``/``; a trailing slash is removed from any
  other path; percent-escapes of unreserved characters are decoded, others upper-cased.

Anything that is not an http(s) URL is returned stripped but otherwise unchanged.

A *feed's* identity is not an article's: ``feed.php?rss=world`` and ``feed.php?rss=sport`` are
two feeds, one article. ``feed_key`` only folds what never changes the resource: scheme and host
case, a default port, the fragment.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from yarl import URL

__all__ = ["TRACKING_PARAMS", "canonical_url", "feed_key", "is_tracking_param"]

# fmt: off
TRACKING_PARAMS = frozenset(
    {
        # ad and social click ids
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "igshid", "igsh", "li_fat_id", "mkt_tok", "_ga", "_gl", "_hsenc", "_hsmi", "__twitter_impression",
        # newsletters
        "mc_cid", "mc_eid", "vero_id", "vero_conv", "oly_enc_id", "oly_anon_id", "ml_subscriber",
        "ml_subscriber_hash", "sc_cid",
        # referrers and campaigns used by news sites
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "intcmp", "ocid", "spm", "smid", "smtyp",
        "emc", "partner", "xtor", "ito", "s_cid", "wt_mc", "wt_zmc", "wtmc", "ns_mchannel", "ns_source",
        "ns_campaign", "ns_linkname", "ns_fee", "at_medium", "at_campaign", "at_custom1", "at_custom2",
        "at_custom3", "at_custom4", "at_format", "at_link", "at_bbc_team", "at_link_id", "at_link_type",
        "at_link_origin", "at_ptr_name", "at_ptr_type", "rss", "tag_source", "share", "shared",
    }
)
# fmt: on
_TRACKING_PREFIXES = ("utm_", "at_", "ns_", "pk_", "mtm_", "hsa_")

_AMP_QUERY_KEYS = frozenset({"amp", "amp_js_v", "amp_gsa", "usqp", "_amp", "outputtype"})
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are in a path: RFC 3986 reserved + unreserved + '%'.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/:@!$'(),;-._~?"  # no '+': parse_qsl would read it back as a space


def is_tracking_param(name: str, value: str = "") -> bool:
    """Whether a query parameter only says where a click came from (never which article)."""
    key = name.lower()
    if key in TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES):
        return True
    # Medium, Substack and friends: ?source=rss----abc--food
    return key == "source" and value.lower().startswith(("rss", "feed", "twitter", "facebook"))


def canonical_url(url: str) -> str:
    """Return the canonical form of ``url`` (see the module docstring); idempotent."""
    current = url.strip()
    # One pass can expose another rule (``x.amp.amp``, an AMP-cache URL of an AMP page):
    # repeat to a fixed point, which a couple of passes always reach.
    for _ in range(6):
        following = _canonical_once(current)
        if following == current:
            break
        current = following
    return current


def feed_key(url: str) -> str:
    """The form every spelling of one feed's address shares (see the module docstring)."""
    try:
        return str(URL(url.strip()).with_fragment(None))
    except ValueError:
        return url.strip()


def _canonical_once(url: str) -> str:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return url
        host = _host(parts.hostname)
        port = parts.port
    except ValueError:  # bad port, bad IPv6 literal
        return url
    path = parts.path
    query_pairs = parse_qsl(parts.query, keep_blank_values=True)

    # Google AMP cache: https://www-example-com.cdn.ampproject.org/c/s/www.example.com/a/b
    if host.endswith(".cdn.ampproject.org"):
        m = re.match(r"^/[a-z]/(s/)?([^/]+)(/.*)?$", path)
        if m:
            scheme = "https" if m.group(1) else "http"
            host, port, path = _host(m.group(2).split(":")[0]), None, m.group(3) or "/"

    while host.startswith(("www.", "amp.")) and host.count(".") >= 2:
        host = host[4:]
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"

    path = _normalise_path(path)
    query = _normalise_query(query_pairs)
    return urlunsplit((scheme, netloc, path, query, ""))


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal: urlsplit removed the brackets
        return f"[{host}]"
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


def _normalise_path(path: str) -> str:
    path = _normalise_escapes(path, _PATH_SAFE)
    segments = path.split("/")
    # AMP: a whole "amp" segment anywhere, ".amp.html" or ".amp" endings.
    segments = [s for s in segments if s.lower() != "amp"]
    if segments:
        last = segments[-1]
        for ending, replacement in ((".amp.html", ".html"), (".amp.htm", ".htm"), (".amp", "")):
            if last.lower().endswith(ending) and len(last) > len(ending):
                last = last[: -len(ending)] + replacement
                break
        segments[-1] = last
    path = "/".join(segments)
    while "//" in path:
        path = path.replace("//", "/")
    path = path.rstrip("/")
    return path if path.startswith("/") else "/" + path


def _normalise_query(pairs: list[tuple[str, str]]) -> str:
    kept = []
    for name, value in pairs:
        if not name or is_tracking_param(name, value):
            continue
        key = name.lower()
        if key in _AMP_QUERY_KEYS and (key != "outputtype" or value.lower() == "amp"):
            continue
        kept.append((name, value))
    kept.sort()
    return urlencode(kept, quote_via=quote, safe=_QUERY_SAFE)


def _normalise_escapes(text: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, quote anything unsafe."""

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    text = _PCT.sub(fix, text)
    # A '%' not starting a valid escape must itself be escaped.
    text = re.sub(r"%(?![0-9A-F]{2})", "%25", text)
    return quote(text, safe=safe)
