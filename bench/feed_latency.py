"""Feed latency: from a feed changing to its new article being answerable. Prints one JSON object.

    python -m bench.feed_latency [--runs 5] [--background 0]

A loopback HTTP server plays a news site with an RSS feed. For each run the feed gains one new
item (a fresh article page written here, never a publisher's text), a fetch of the feed is
started at once (``FeedDesk.fetch``: what ``/admin fetch`` and the poller do when the feed is
due), and a second task asks the engine a question about the new article every 50 ms until
an answer cites it. Reported, in seconds from the feed change: ``answerable_s`` (the first
answer citing it) and ``fetch_returned_s`` (when ``fetch`` returned; it also waits for the
sentence vectors used for highlighting, which are computed after the generation is live).
With the background poller the end-to-end delay is at most the feed's poll interval plus
``answerable_s``. ``--background N`` first indexes N real BBC articles from ../shared/data, so
the FAISS index being patched is not tiny.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from foreign_desk.index.article import Article, Block
from foreign_desk.index.config import FeedSettings, load_settings
from foreign_desk.index.engine import Engine
from foreign_desk.index.feeds import FeedDesk
from foreign_desk.index.fetch import AddressPolicy, Fetcher

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "bbc_world_2025" / "bbc_news_2025.csv"
CODENAMES = [
    "Kestrel",
    "Halyard",
    "Monsoon",
    "Trident",
    "Lantern",
    "Cobalt",
    "Meridian",
    "Saffron",
    "Tamarind",
]


def story(n: int) -> tuple[str, str, list[str], str]:
    """(path, title, paragraphs, question) of the n-th synthetic article."""
    code = f"{CODENAMES[n % len(CODENAMES)]}-{n + 11}"
    title = f"Navies of Indonesia and Malaysia launch Operation {code} in the Malacca Strait"
    paragraphs = [
        f"Indonesia and Malaysia launched Operation {code} on Monday, a joint naval exercise in the Malacca "
        f"Strait aimed at deterring piracy and protecting commercial shipping, officials said in Batam.",
        f"Twelve warships and four maritime patrol aircraft take part in Operation {code}, which is "
        "scheduled to last nine days and includes boarding drills and search-and-rescue training.",
        "Officials from both navies said the exercise would be reviewed at a meeting in Kuala Lumpur next "
        "month, where the ministers are expected to discuss a permanent coordination centre.",
    ]
    return f"/news/2025/operation-{code.lower()}", title, paragraphs, f"What is Operation {code}?"


def page(title: str, paragraphs: list[str], url: str, published: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench News</title>'
        f'<meta property="og:site_name" content="Bench News"><link rel="canonical" href="{url}">'
        f'<meta property="article:published_time" content="{published}"></head><body>'
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{title}</h1>{body}</article><footer>About us · Privacy policy</footer></body></html>"
    )


def feed(base: str, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}?utm_source=rss</link><guid>{base}{path}</guid>"
        f"<pubDate>{published}</pubDate></item>"
        for path, title, published in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench News - World</title>'
        f"<link>{base}/</link><language>en</language>{entries}</channel></rss>"
    )


class Site:
    """A tiny loopback news site whose pages and feed change while it runs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {}
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def handle(self, request: web.Request) -> web.Response:
        found = self.pages.get(request.path)
        if found is None:
            return web.Response(status=404)
        body, kind = found
        return web.Response(text=body, content_type=kind)

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def background_articles(n: int) -> list[Article]:
    if n <= 0:
        return []
    if not BBC.is_file():
        raise SystemExit(f"--background needs {BBC}")
    out = []
    with BBC.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["content"] and row["headline"]:
                paras = [row["content"][i : i + 600] for i in range(0, min(len(row["content"]), 1800), 600)]
                out.append(
                    Article(
                        row["headline"],
                        tuple(Block(p) for p in paras),
                        source="BBC",
                        url=row["url"],
                        language="en",
                    )
                )
            if len(out) >= n:
                break
    return out


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 3),
        "p90": round(p90, 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
    }


async def measure(runs: int, background: int, data_dir: Path) -> dict[str, Any]:
    settings = load_settings(None, environ={}, data_dir=str(data_dir), feeds=FeedSettings(seed=False))
    site = Site()
    await site.start()
    policy = AddressPolicy.trusting(["127.0.0.1/32"])
    answerable: list[float] = []
    returned: list[float] = []

    def finished(t0: float, _task: asyncio.Task[Any]) -> None:
        returned.append(time.perf_counter() - t0)

    try:
        async with await Engine.open(settings) as engine:
            started = time.perf_counter()
            await engine.index([engine.corpus_dir])
            if background:
                await engine.add_articles(background_articles(background))
            setup_s = time.perf_counter() - started
            async with await FeedDesk.open(engine, fetcher_factory=lambda: Fetcher(policy=policy)) as desk:
                items: list[tuple[str, str, str]] = []
                site.pages["/rss"] = (feed(site.base, items), "application/rss+xml")
                await desk.add_feed(site.base + "/rss", name="bench")
                await desk.fetch("bench")  # warm: an empty first poll
                for n in range(runs):
                    path, title, paragraphs, question = story(n)
                    published = f"2025-06-{n % 28 + 1:02d}T08:00:00+00:00"
                    site.pages[path] = (page(title, paragraphs, site.base + path, published), "text/html")
                    items.insert(0, (path, title, f"Mon, {n % 28 + 1:02d} Jun 2025 08:00:00 GMT"))
                    t0 = time.perf_counter()
                    site.pages["/rss"] = (feed(site.base, items), "application/rss+xml")  # the feed changes
                    fetching = asyncio.create_task(desk.fetch("bench"))
                    fetching.add_done_callback(partial(finished, t0))
                    while True:
                        answer = await engine.ask(question, k=3)
                        if any(r.article.url == site.base + path for r in answer.results):
                            answerable.append(time.perf_counter() - t0)
                            break
                        if fetching.done() and fetching.exception():
                            raise fetching.exception()  # type: ignore[misc]
                        await asyncio.sleep(0.05)
                    report = await fetching
                    assert report.counts["new"] == 1, report.counts
                stored = await engine.stats()
    finally:
        await site.close()
    return {
        "benchmark": "feed_latency",
        "runs": runs,
        "answerable_s": stats(answerable),
        "fetch_returned_s": stats(returned),
        "articles_in_index": stored.articles,
        "passages_in_index": stored.passages,
        "setup_s": round(setup_s, 1),
        "embedder": stored.embedder,
        "cpu_count": os.cpu_count(),
        "default_poll_minutes": settings.feeds.poll_minutes,
        "note": "seconds from the feed change to the first answer citing the new article, fetch started "
        "at once; with the background poller add up to the feed's poll interval",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="new articles to measure (default 5)")
    parser.add_argument(
        "--background", type=int, default=0, help="real BBC articles to index first (default 0)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fd-feed-latency-") as tmp:
        result = asyncio.run(measure(args.runs, args.background, Path(tmp)))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
