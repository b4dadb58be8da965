"""A stored article whose page, fetched again, fails: the stored version keeps serving, the
failure is reported and retried as any item's is, and the article is still what a copy of its
text at another address repeats (never a second article shown twice). An item that found the
article a duplicate keeps it the same way: its feed still brought it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.fetch import FetchError
from foreign_desk.index.models import Scope

from tests.feeds.conftest import FakeClock, publish, serve_story
from tests.feeds.news import PATROL
from tests.fetch.fixture_server import FixtureServer

A, B, C = 111, 222, 333
CHANGED = PATROL.with_(summary="Navies of both countries will patrol the Arafura Sea together")
COPY = PATROL.with_(path="/world/2024/mar/05/arafura-sea-joint-patrols-agreed")
NO_TEXT = PATROL.with_(summary="", paragraphs=("Baca juga: Patroli bersama di Laut Arafura", "Advertisement"))
"""A page that is still an article page, with nothing left once its boilerplate is removed."""

FAILURES: dict[str, Callable[[FixtureServer], object]] = {
    "gone": lambda server: server.serve(PATROL.path, "not found", status=404),
    "not-an-article": lambda server: server.serve(PATROL.path, "<html><body>x</body></html>"),
    "no-text": lambda server: serve_story(server, NO_TEXT),
}


async def top_title(engine: Engine) -> str:
    answer = await engine.ask("Which navies will patrol the Arafura Sea together?")
    return answer.results[0].article.title


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_copy_of_a_feeds_article_whose_page_then_failed_is_the_article_stored(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock, failure: str
) -> None:
    """The feed stored the page; its item changed and the page, fetched again, failed for good
    (reported, not fetched again on the next poll): the stored version still answers, and the
    same text from the same outlet at another address is that article."""
    await desk.add_feed(publish(server, "/rss", PATROL), name="news", check=False)
    (first,) = (await desk.fetch()).items
    publish(server, "/rss", CHANGED)
    FAILURES[failure](server)
    clock.advance(3600)
    (failed,) = (await desk.fetch()).items
    assert failed.status == "failed" and failed.reason
    clock.advance(3600)
    assert [i.status for i in (await desk.fetch()).items] == ["unchanged"]
    assert len(server.requests_to(PATROL.path)) == 2
    serve_story(server, COPY)

    outcome = await desk.ingest(server.url(COPY.path))

    assert (outcome.status, outcome.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == 1 and await top_title(engine) == PATROL.title


async def test_a_stored_articles_page_failing_for_a_passing_reason_is_retried_then_left(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """A 5xx: tried again on each poll, like any item's page, until ``item_attempts`` failures;
    meanwhile and after, the stored version answers and a copy of its text is that article."""
    await desk.add_feed(publish(server, "/rss", PATROL), name="news", check=False)
    (first,) = (await desk.fetch()).items
    publish(server, "/rss", CHANGED)
    server.serve(PATROL.path, "oops", status=500)
    attempts = desk.settings.item_attempts
    statuses: list[str] = []
    for _ in range(attempts + 1):
        clock.advance(3600)
        statuses += [i.status for i in (await desk.fetch()).items]
        if len(statuses) == 1:
            serve_story(server, COPY)
            copy = await desk.ingest(server.url(COPY.path))
            assert (copy.status, copy.article_id) == ("duplicate", first.article_id)

    assert statuses == ["failed"] * attempts + ["unchanged"]
    assert len(server.requests_to(PATROL.path)) == 1 + attempts
    assert (await engine.stats()).articles == 1 and await top_title(engine) == PATROL.title


async def test_a_copy_of_a_page_whose_second_ingest_had_no_text_is_the_page_stored(
    server: FixtureServer, desk: FeedDesk, engine: Engine
) -> None:
    serve_story(server, PATROL)
    first = await desk.ingest(server.url(PATROL.path))
    serve_story(server, NO_TEXT)
    with pytest.raises(FetchError, match="no article text"):
        await desk.ingest(server.url(PATROL.path))
    serve_story(server, COPY)

    outcome = await desk.ingest(server.url(COPY.path))

    assert (outcome.status, outcome.article_id) == ("duplicate", first.article_id)
    assert (await engine.stats()).articles == 1 and await top_title(engine) == PATROL.title


async def test_a_duplicates_page_failing_on_a_refetch_keeps_what_its_feed_brought(
    server: FixtureServer, desk: FeedDesk, engine: Engine, clock: FakeClock
) -> None:
    """B's feed linked A's stored article (a duplicate: B sees it too); its item changed and the
    page, fetched again, failed: reported, and the feed still brought the article: C, subscribing
    to B's feed now, gets it with the feed's articles so far."""
    await desk.add_feed(publish(server, "/a", PATROL), name="a", check=False, guild_id=A)
    await desk.fetch(guild_id=A)
    await desk.add_feed(publish(server, "/b", PATROL), name="b", check=False, guild_id=B)
    (duplicate,) = (await desk.fetch(guild_id=B)).items
    assert duplicate.status == "duplicate" and duplicate.article_id
    publish(server, "/b", CHANGED)
    server.serve(PATROL.path, "not found", status=404)
    clock.advance(3600)
    (failed,) = (await desk.fetch(guild_id=B)).items
    assert failed.status == "failed" and "404" in (failed.reason or "")

    await desk.add_feed(server.url("/b"), name="b", check=False, guild_id=C)
    await desk.caught_up()

    assert await engine.visible([duplicate.article_id], Scope(C)) == {duplicate.article_id}
