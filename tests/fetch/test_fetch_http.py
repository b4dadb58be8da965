"""Fetching over real HTTP from the loopback fixture server: the limits a feed poller relies on."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from foreign_desk.index.errors import FetchError
from foreign_desk.index.fetch import (
    ConnectionFailed,
    Fetcher,
    FetchTimeout,
    HTTPStatusError,
    InvalidURL,
    ResponseTooLarge,
    RetryLater,
    TooManyRedirects,
    UnsupportedContentType,
)
from foreign_desk.index.fetch.http import MAX_RETRY_AFTER_S, parse_retry_after

from tests.conftest import ROOT
from tests.fetch.fixture_server import LOOPBACK_ONLY, FixtureServer, etag_of, fixture_bytes


async def test_feed_is_fetched_with_bot_user_agent(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/world/rss", "guardian_world.rss")

    result = await fetcher.fetch_feed(news_server.url("/world/rss"))

    assert result.status == 200 and not result.not_modified
    assert b"Asean ministers agree" in result.body
    assert result.content_type == "application/rss+xml"
    (request,) = news_server.requests_to("/world/rss")
    assert request.headers["User-Agent"].startswith("ForeignDeskBot/")
    assert request.headers["Accept"].startswith("application/rss+xml")


async def test_unchanged_feed_answers_304_and_costs_no_body(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    body = fixture_bytes("antara_dunia.xml")
    news_server.serve("/dunia/rss", body, content_type="application/rss+xml", etag=etag_of(body))
    first = await fetcher.fetch_feed(news_server.url("/dunia/rss"))

    second = await fetcher.fetch_feed(news_server.url("/dunia/rss"), etag=first.etag)

    assert second.not_modified and second.status == 304
    assert second.body == b""
    assert second.etag == first.etag
    assert news_server.requests_to("/dunia/rss")[-1].headers["If-None-Match"] == first.etag

    # The newsroom publishes: same URL, new content, new validator -> a full answer again.
    updated = body.replace(b"Gaza", b"Rafah")
    news_server.serve("/dunia/rss", updated, content_type="application/rss+xml", etag=etag_of(updated))
    third = await fetcher.fetch_feed(news_server.url("/dunia/rss"), etag=first.etag)
    assert not third.not_modified and b"Rafah" in third.body and third.etag != first.etag


async def test_last_modified_validator_is_sent_back(news_server: FixtureServer, fetcher: Fetcher) -> None:
    stamp = "Tue, 05 Mar 2024 08:20:07 GMT"
    news_server.serve_fixture("/detik/rss", "detik_v1.xml", last_modified=stamp)
    first = await fetcher.fetch_feed(news_server.url("/detik/rss"))
    assert first.last_modified == stamp

    again = await fetcher.fetch_feed(news_server.url("/detik/rss"), last_modified=first.last_modified)

    assert again.not_modified and again.last_modified == stamp
    assert news_server.requests_to("/detik/rss")[-1].headers["If-Modified-Since"] == stamp


async def test_a_304_to_an_unconditional_request_is_an_error(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    """Nothing was asked to be compared: "not modified" says nothing, and a feed that only ever
    answers so must not pass for a healthy one."""
    news_server.serve("/never", b"", status=304, content_type=None)

    with pytest.raises(HTTPStatusError, match="HTTP 304") as caught:
        await fetcher.fetch_feed(news_server.url("/never"))

    assert caught.value.status == 304
    shown = str(caught.value).replace(news_server.url("/never"), "URL")
    assert f"| `{shown}` |" in (ROOT / "README.md").read_text(encoding="utf-8")  # troubleshooting row


async def test_429_surfaces_retry_after_seconds(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve("/busy", "slow down", status=429, headers={"Retry-After": "120"})

    with pytest.raises(RetryLater) as caught:
        await fetcher.fetch_feed(news_server.url("/busy"))

    assert caught.value.status == 429
    assert caught.value.retry_after == 120
    assert "retry after 120 s" in str(caught.value) and "\n" not in str(caught.value)


async def test_503_surfaces_retry_after_http_date_capped_at_a_day(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    news_server.serve(
        "/down", "maintenance", status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
    )
    before = datetime.now(UTC)

    with pytest.raises(RetryLater) as caught:
        await fetcher.fetch_page(news_server.url("/down"))

    assert caught.value.status == 503
    assert caught.value.retry_after == MAX_RETRY_AFTER_S == 86_400
    assert caught.value.retry_at is not None
    assert before < caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=MAX_RETRY_AFTER_S)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), ("Tue, 05 Mar 2024 10:01:00 GMT", 60.0), ("Tue, 05 Mar 2024 09:00:00 GMT", 0.0),
     ("soon", None), ("", None), (None, None)],
)  # fmt: skip
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now)[0] == seconds


async def test_a_server_that_never_answers_times_out(news_server: FixtureServer) -> None:
    answer = asyncio.Event()  # set only after the fetch gave up: only the timeout can end it

    async def never(request: web.Request) -> web.Response:
        await answer.wait()
        return web.Response(text="<html>late</html>", content_type="text/html")

    news_server.handle("/slow", never)
    try:
        async with asyncio.timeout(60), Fetcher(policy=LOOPBACK_ONLY, timeout_s=0.5) as fetcher:
            with pytest.raises(FetchTimeout, match=r"timed out after 0.5 s"):
                await fetcher.fetch_page(news_server.url("/slow"))
    finally:
        answer.set()


async def test_redirects_are_followed_and_recorded(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve_fixture("/new/rss", "detik_v1.xml")
    news_server.redirect("/rss", "/new/rss", status=301)

    result = await fetcher.fetch_feed(news_server.url("/rss"))

    assert result.final_url == news_server.url("/new/rss")
    assert result.redirects == (news_server.url("/rss"),)


async def test_redirect_loop_is_refused(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.redirect("/a", "/b")
    news_server.redirect("/b", "/a")

    with pytest.raises(TooManyRedirects, match="redirect loop"):
        await fetcher.fetch_page(news_server.url("/a"))
    assert len(news_server.requests) == 2


async def test_redirect_chain_past_the_cap_is_refused(news_server: FixtureServer, fetcher: Fetcher) -> None:
    for hop in range(6):
        news_server.redirect(f"/hop{hop}", f"/hop{hop + 1}")

    with pytest.raises(TooManyRedirects, match="more than 3 redirects"):
        await fetcher.fetch_page(news_server.url("/hop0"))
    assert len(news_server.requests) == 4  # the cap is 3: the fourth Location is not followed


async def test_an_address_past_the_ceiling_is_refused_unfetched_and_unquoted(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    """A hostile feed's link or redirect to a 5,000-character address: no request goes there,
    and the one-line reason does not quote it."""
    far = "/" + "a" * 5_000
    news_server.redirect("/short", far)
    for url in (news_server.url(far), news_server.url("/short")):
        with pytest.raises(InvalidURL, match="characters long; at most 2,048") as refused:
            await fetcher.fetch_page(url)
        assert len(str(refused.value)) < 100
    assert [r.path for r in news_server.requests] == ["/short"]


async def test_page_declared_too_large_is_refused_before_download(
    news_server: FixtureServer, fetcher: Fetcher
) -> None:
    news_server.serve("/huge", b"<p>" + b"x" * 400_000)

    with pytest.raises(ResponseTooLarge, match="over the 300,000 byte limit"):
        await fetcher.fetch_page(news_server.url("/huge"))


async def test_endless_stream_is_cut_at_the_cap(news_server: FixtureServer, fetcher: Fetcher) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(10_000):  # 640 MB if nobody stopped it
            await response.write(b"<p>" + b"y" * 65_533)
            sent += 65_536
        return response

    news_server.handle("/stream", endless)

    with pytest.raises(ResponseTooLarge):
        await fetcher.fetch_page(news_server.url("/stream"))
    assert sent < 50_000_000


@pytest.mark.parametrize(
    ("name", "content_type"), [("laporan_tahunan.pdf", "application/pdf"), ("broken.xml", "image/png")]
)
async def test_non_html_page_is_refused(
    news_server: FixtureServer, fetcher: Fetcher, name: str, content_type: str
) -> None:
    news_server.serve_fixture("/file", name, content_type=content_type)

    with pytest.raises(UnsupportedContentType, match=f"is {content_type}, not an HTML page"):
        await fetcher.fetch_page(news_server.url("/file"))


async def test_image_is_not_a_feed(news_server: FixtureServer, fetcher: Fetcher) -> None:
    news_server.serve("/logo", b"\x89PNG\r\n\x1a\n", content_type="image/png")

    with pytest.raises(UnsupportedContentType, match="not a feed"):
        await fetcher.fetch_feed(news_server.url("/logo"))


async def test_http_error_status_is_reported(news_server: FixtureServer, fetcher: Fetcher) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await fetcher.fetch_page(news_server.url("/missing"))
    assert caught.value.status == 404
    assert str(caught.value).startswith("HTTP 404")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed.xml", "file:///etc/passwd", "javascript:alert(1)", "/rss"]
)
async def test_only_http_urls_are_fetched(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(InvalidURL):
        await fetcher.fetch_page(url)


async def test_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Fetcher(policy=LOOPBACK_ONLY, timeout_s=2.0) as fetcher:
        with pytest.raises(ConnectionFailed, match=r"cannot connect to 127\.0\.0\.1"):
            await fetcher.fetch_page(f"http://127.0.0.1:{port}/")


async def test_concurrent_fetches_share_one_fetcher(news_server: FixtureServer, fetcher: Fetcher) -> None:
    for n in range(8):
        news_server.serve(f"/p{n}", f"<html><body><p>page {n}</p></body></html>", delay=0.05)

    results = await asyncio.gather(*(fetcher.fetch_page(news_server.url(f"/p{n}")) for n in range(8)))

    assert [r.body.decode().count(f"page {n}") for n, r in enumerate(results)] == [1] * 8


def test_every_error_is_a_fetch_error() -> None:
    for cls in (ConnectionFailed, FetchTimeout, HTTPStatusError, InvalidURL, ResponseTooLarge, RetryLater,
                TooManyRedirects, UnsupportedContentType):  # fmt: skip
        assert issubclass(cls, FetchError)
