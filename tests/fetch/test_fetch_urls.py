"""Canonical URLs: the same article under tracking tags, AMP and spelling variants is one URL."""

from __future__ import annotations

from typing import Literal

import pytest
from foreign_desk.index.fetch.urls import TRACKING_PARAMS, canonical_url, feed_key
from hypothesis import given, settings
from hypothesis import strategies as st

CANONICAL = "https://theguardian.com/world/2024/mar/05/asean-ministers"


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers",
        "HTTPS://WWW.TheGuardian.com:443/world/2024/mar/05/asean-ministers/",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?CMP=Share_iOSApp_Other",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?utm_source=rss&utm_medium=feed#comments",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?fbclid=IwAR0x&gclid=abc&mc_cid=1&mc_eid=2",
        "https://amp.theguardian.com/world/2024/mar/05/asean-ministers",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers/amp",
        "https://www.theguardian.com/amp/world/2024/mar/05/asean-ministers",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?amp",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?amp=1&ref=rss&spm=a2c",
        "https://www.theguardian.com/world/2024/mar/05/asean-ministers?outputType=amp",
        "https://www-theguardian-com.cdn.ampproject.org/c/s/www.theguardian.com/world/2024/mar/05/asean-ministers",
        "  https://theguardian.com/world/2024/mar/05/asean-ministers  ",
        "https://theguardian.com/world/2024/mar/05/asean%2Dministers",
    ],
)
def test_variants_of_one_article_share_one_url(variant: str) -> None:
    assert canonical_url(variant) == CANONICAL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Example.COM", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=0&a=1&b=2"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/a?q=jakarta+post&page=2", "https://example.com/a?page=2&q=jakarta%20post"),
        ("https://example.com/berita?id=5&wt_mc=rss.x", "https://example.com/berita?id=5"),
        ("https://medium.com/p/abc?source=rss----d12c403d4976--food", "https://medium.com/p/abc"),
        ("https://www.bücher.de/ä", "https://xn--bcher-kva.de/%C3%A4"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        ("mailto:desk@example.com", "mailto:desk@example.com"),
        ("not a url", "not a url"),
    ],
)
def test_canonical_forms(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_different_articles_stay_different() -> None:
    a = canonical_url("https://www.tempo.co/read/news/2024/03/05/1001/ri-malaysia?page=1")
    b = canonical_url("https://www.tempo.co/read/news/2024/03/05/1001/ri-malaysia?page=2")
    c = canonical_url("https://www.tempo.co/read/news/2024/03/05/1002/ri-malaysia?page=1")
    assert len({a, b, c}) == 3


def test_a_feeds_key_folds_only_spellings_of_the_same_address() -> None:
    """Feeds are told apart by what article URLs drop: ``?rss=sport`` is not ``?rss=world``."""
    key = feed_key("https://news.example/feed.php?rss=world")
    same = ["HTTPS://News.Example:443/feed.php?rss=world", "https://news.example/feed.php?rss=world#latest"]
    others = [
        "https://news.example/feed.php?rss=sport",
        "https://news.example/feed.php?rss=world&ref=home",
        "https://www.news.example/feed.php?rss=world",
        "https://news.example/feed.php/amp?rss=world",
        "http://news.example/feed.php?rss=world",
    ]
    assert {feed_key(u) for u in same} == {key}
    assert key not in {feed_key(u) for u in others} and len({feed_key(u) for u in others}) == len(others)


# URL text as found in feeds: any printable character, no raw whitespace or control characters.
_NO_SPACE: tuple[Literal["Cc", "Cs", "Zs", "Zl", "Zp"], ...] = ("Cc", "Cs", "Zs", "Zl", "Zp")
_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=_NO_SPACE, exclude_characters="/?#"), max_size=12
)
_param = st.tuples(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=_NO_SPACE, exclude_characters="&#"),
        max_size=10,
    ),
)
_host = st.sampled_from(
    ["example.com", "www.detik.com", "news.detik.com", "amp.theguardian.com", "WWW.Tempo.CO", "[::1]"]
)


@st.composite
def urls(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(_segment, max_size=4)))
    params = draw(st.lists(_param, max_size=4))
    query = "&".join(f"{k}={v}" for k, v in params)
    fragment = draw(st.sampled_from(["", "#top", "#!/x"]))
    return f"{scheme}://{draw(_host)}{port}/{path}" + (f"?{query}" if query else "") + fragment, params


@settings(max_examples=200, deadline=None, database=None)
@given(urls())
def test_canonicalisation_is_idempotent(case: tuple[str, list[tuple[str, str]]]) -> None:
    url, _ = case
    once = canonical_url(url)
    assert canonical_url(once) == once


@settings(max_examples=200, deadline=None, database=None)
@given(
    urls(),
    st.lists(
        st.tuples(
            st.sampled_from(
                [*sorted(TRACKING_PARAMS), "utm_source", "utm_campaign", "utm_content", "UTM_Medium"]
            ),
            st.text(alphabet="abcXYZ019-_.", max_size=8),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_tracking_parameters_never_change_the_result(
    case: tuple[str, list[tuple[str, str]]], tracking: list[tuple[str, str]]
) -> None:
    url, _ = case
    base, _, fragment = url.partition("#")
    extra = "&".join(f"{k}={v}" for k, v in tracking)
    tagged = f"{base}{'&' if '?' in base else '?'}{extra}" + (f"#{fragment}" if fragment else "")
    assert canonical_url(tagged) == canonical_url(url)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(_param, min_size=2, max_size=5, unique_by=lambda p: p[0]), st.randoms())
def test_parameter_order_does_not_matter(params: list[tuple[str, str]], rnd: object) -> None:
    shuffled = list(params)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = "https://example.com/a?" + "&".join(f"{k}={v}" for k, v in params)
    b = "https://example.com/a?" + "&".join(f"{k}={v}" for k, v in shuffled)
    assert canonical_url(a) == canonical_url(b)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=60))
def test_any_text_is_handled_and_idempotent(text: str) -> None:
    once = canonical_url(text)
    assert canonical_url(once) == once
