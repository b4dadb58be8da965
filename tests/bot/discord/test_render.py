"""The pure renderers: whatever the corpus holds, every message fits Discord's limits, article
text cannot format or ping, and cuts fall on sentence boundaries with an ellipsis."""

from __future__ import annotations

import re
from dataclasses import replace

import discord
import pytest
from foreign_desk.bot.discord import limits
from foreign_desk.bot.discord.i18n import LANGUAGES, texts
from foreign_desk.bot.discord.limits import ELLIPSIS, fit, fit_markdown, problems
from foreign_desk.bot.discord.links import answer_links
from foreign_desk.bot.discord.render import (
    answer_embed,
    answer_text,
    latest_embed,
    linked_text,
    passage_markdown,
    progress_text,
    report_text,
    sources_embed,
    stats_embed,
)
from foreign_desk.index.article import Problems, ReadProblem
from foreign_desk.index.models import (
    Answer,
    ArticleRef,
    ArticleSummary,
    EngineStats,
    Filters,
    Result,
    SourceCount,
)
from foreign_desk.index.progress import IndexProgress, IndexReport
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Markdown, mention syntax and bidirectional overrides are over-represented on purpose.
TRICKY = st.sampled_from(
    [
        *("*", "_", "`", "~", "|", ">", "#", "-", "[", "]", "(", ")", "\\"),
        *("@everyone", "@here", "\u202e", "\u2067"),
    ]
)
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
"""An unclosed override or isolate shows the rest of its line backwards, the bot's own words too."""
WORDS = st.sampled_from(
    ["NATO", "Jepang", "sanksi", "Rusia", "the", "talks", "http://x.y/a_b", "<@123456789012345678>"]
)
TEXT = st.lists(
    st.one_of(
        WORDS,
        TRICKY,
        st.sampled_from([" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n", "… "]),
        st.text(max_size=8),
    ),
    max_size=400,
).map("".join)
URL = st.one_of(
    st.none(),
    st.just("not a url"),
    st.text(alphabet="abcdefghij/_()- ", max_size=700).map(lambda s: "https://example.org/" + s),
)


@st.composite
def results(draw: st.DrawFn, n: int) -> list[Result]:
    out = []
    for rank in range(1, n + 1):
        text = draw(TEXT.filter(lambda t: t.strip()))
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, len(text)))
        ref = ArticleRef(
            id=str(rank),
            title=draw(TEXT.filter(lambda t: t.strip())),
            source=draw(st.one_of(st.none(), TEXT)),
            url=draw(URL),
            published=draw(st.sampled_from([None, "2023-01-31", "2023-01-31T10:00:00Z", "garbage"])),
            language="id",
            path="/corpus/a.txt",
        )
        paragraphs = tuple(draw(st.lists(st.integers(1, 300), max_size=40)))
        also = tuple(draw(st.lists(TEXT, max_size=3)))
        match = draw(st.sampled_from(["strong", "weak", "none"]))  # "none": the divider may show
        out.append(
            Result(rank, 0.5, 0.5, text, text[start:end], paragraphs, None, ref, "", rank, also, match=match)
        )
    return out


def test_an_answer_to_a_question_of_bidi_controls_alone_keeps_a_title() -> None:
    """Escaping takes a right-to-left override out of a title ("\u202e" asked): the embed had
    none (found by the property test below)."""
    answer = Answer("\u202e", (), 12.0, match="weak")
    assert answer_embed(answer, Filters(), texts("en")).to_dict()["title"] == "?"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data(), n=st.integers(1, 10), question=TEXT)
def test_any_answer_fits_every_limit_and_pings_nobody(data: st.DataObject, n: int, question: str) -> None:
    found = data.draw(results(n))
    match = data.draw(st.sampled_from(["strong", "weak"]))
    answer = Answer(question or "?", tuple(found), 12.0, has_more=data.draw(st.booleans()), match=match)
    filters = Filters(language="id", source=data.draw(TEXT) or None, since="2023-01-01")
    tx = texts(data.draw(st.sampled_from(LANGUAGES)))
    embed, text = answer_embed(answer, filters, tx), answer_text(answer, filters, tx)
    assert problems(None, [embed]) == [] and problems(text) == []
    linked = ArticleSummary("9", data.draw(TEXT) or "?", data.draw(TEXT), None, "2024-03-05", "en", None, "")
    note = linked_text(linked, tx)
    noted = answer_text(answer, filters, tx, note)
    assert problems(note) == [] and problems(noted) == [] and noted.startswith(f"{note}\n**")
    body = embed.to_dict()
    for part in (body["title"], body["description"], body["footer"]["text"]):
        assert "@everyone" not in part and "@here" not in part
        assert not re.search(r"<@!?&?\d", part) and not BIDI.search(part)
    assert "@everyone" not in text and "@here" not in text and not BIDI.search(text)
    assert not re.search(r"<@!?&?\d+>", text)  # a mention cut short by a tight budget is no mention
    links = answer_links(found, tx, data.draw(st.sampled_from(["en", "id", "pt", "zh-TW"])))
    assert len(links) <= 20  # four rows of link buttons; the fifth is Back / More / 👍 / 👎
    for link in links:
        assert len(link.label) <= limits.BUTTON_LABEL_MAX and len(link.url) <= limits.URL_MAX
        assert not BIDI.search(link.label)
        assert link.url.startswith("https://") and " " not in link.url


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n", [1, 2])
def test_a_weak_answer_says_first_that_no_passage_clearly_answers(language: str, n: int) -> None:
    tx = texts(language)
    ref = ArticleRef("1", "NATO dan Jepang", "IDN Times", None, "2023-01-31", "id", "/corpus/a.txt")
    found = tuple(
        Result(r, 2.1, 0.8, "Jepang dan NATO sepakat.", "Jepang dan NATO sepakat.", (3,), None, ref, "", 1)
        for r in range(1, n + 1)
    )
    weak = answer_embed(Answer("Apa kata NATO soal Arktik?", found, 9.0, match="weak"), tx=tx).description
    strong = answer_embed(Answer("Apa kata NATO soal Jepang?", found, 9.0), tx=tx).description
    assert weak is not None and strong is not None
    caveat = tx.plural("answer.weak", n)
    assert weak.startswith(f"*{limits.escape(caveat)}*\n\n**[1]** ")
    assert strong.startswith("**[1]** ") and caveat not in strong


def test_one_weak_passage_is_the_closest_not_the_closest_are() -> None:
    """One passage read "the closest are:" (Indonesian names no number)."""
    assert texts("en").plural("answer.weak", 1) == "No passage clearly answers this; the closest is:"
    assert texts("en").plural("answer.weak", 2) == "No passage clearly answers this; the closest are:"
    assert texts("id").plural("answer.weak", 1).endswith("; yang paling mendekati:")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_articles_of_a_period_say_so_instead_of_answering(language: str) -> None:
    """A question naming only a time gets that period's articles: the caveat names the days, and
    never claims a passage answers it."""
    tx = texts(language)
    ref = ArticleRef("1", "NATO dan Jepang", "IDN Times", None, "2023-01-31", "id", "/corpus/a.txt")
    found = (
        Result(1, 0.0, 0.0, "Jepang dan NATO sepakat.", "Jepang dan NATO sepakat.", (1,), None, ref, "", 1),
    )
    first, last = tx.date("2023-01-01"), tx.date("2023-01-31")
    assert first is not None and last is not None
    for understood, caveat in (
        ({"published": ["2023-01-01", "2023-01-31"]}, tx("answer.period", first=first, last=last)),
        ({"published": ["2023-01-31", "2023-01-31"]}, tx("answer.period_day", day=last)),
        ({}, tx("answer.newest")),  # "berita terbaru": the newest articles, no days named
    ):
        answer = Answer("berita?", found, 3.0, match="weak", understood=understood, period_articles=True)
        for shown in (answer_embed(answer, tx=tx).description, answer_text(answer, tx=tx)):
            assert shown is not None and f"*{limits.escape(caveat)}*\n\n**[1]** " in shown
            assert tx.plural("answer.weak", 1) not in shown and last in shown


@pytest.mark.parametrize(
    ("language", "footer"),
    [
        ("en", "newest preferred: 21 Apr 2017 – 20 May 2017"),
        ("id", "terbaru diutamakan: 21 April 2017 – 20 Mei 2017"),
    ],
)
def test_an_answer_preferring_the_latest_says_which_days(language: str, footer: str) -> None:
    """A question asking for the latest ("berita terbaru tentang Gaza") is ranked with the last
    days up to the newest article preferred: the footer names them; a dated question's does not."""
    tx = texts(language)
    ref = ArticleRef("1", "Gaza", "IDN Times", None, "2017-05-20", "id", "/corpus/a.txt")
    found = (Result(1, 3.0, 0.8, "Gencatan senjata.", "Gencatan senjata.", (1,), None, ref, "", 1),)
    recent = {"published": ["2017-04-21", "2017-05-20"], "recent": True}
    answer = Answer("berita terbaru tentang Gaza", found, 3.0, understood=recent)
    embed = answer_embed(answer, tx=tx)
    assert embed.footer.text is not None and embed.footer.text.endswith(footer)
    assert limits.escape(footer) in answer_text(answer, tx=tx)
    dated = answer_embed(replace(answer, understood={"published": recent["published"]}), tx=tx)
    assert dated.footer.text is not None and footer not in dated.footer.text


@settings(max_examples=200, deadline=None)
@given(text=TEXT, limit=st.integers(0, 3000))
def test_fit_never_exceeds_the_limit(text: str, limit: int) -> None:
    out = fit_markdown(text, limit)
    assert len(out) <= limit
    if len(limits.escape(text)) > limit and limit >= 2:
        assert out.endswith(ELLIPSIS)


def test_fit_cuts_on_a_sentence_boundary_with_an_ellipsis() -> None:
    text = "NATO and Japan agreed to deepen ties. They will share intelligence. Tokyo joins more exercises."
    assert fit(text, 80) == "NATO and Japan agreed to deepen ties. They will share intelligence. …"
    assert fit(text, 1000) == text
    # One long sentence: a word boundary, never half a word.
    long = "word " * 100
    cut = fit(long, 23)
    assert cut == "word word word word …"


@settings(max_examples=100, deadline=None)
@given(text=TEXT.filter(lambda t: len(t.strip()) > 3), data=st.data(), limit=st.integers(12, 1500))
def test_the_best_sentence_stays_bold_when_the_passage_is_cut(
    text: str, data: st.DataObject, limit: int
) -> None:
    start = data.draw(st.integers(0, len(text) - 2))
    highlight = text[start : data.draw(st.integers(start + 1, len(text)))]
    out = passage_markdown(text, highlight, limit)
    assert len(out) <= limit

    def shown(t: str) -> str:  # mentions broken, paragraph breaks as line breaks
        return re.sub(r"\n\s*\n+", "\n", discord.utils.escape_mentions(t))

    core = shown(highlight).strip()
    if core and shown(highlight) in shown(text) and len(limits.escape(core)) + 8 <= limit:
        assert f"**{limits.escape(core)}**" in out  # the highlight survives the cut, whole and in bold


def test_a_passage_cut_after_its_best_sentence_never_ends_in_part_of_a_word() -> None:
    """Not "… resign.** Aks…": a reader takes the fragment for a word."""
    text = "Park apologised. Hundreds marched on Saturday to demand she resign. Aksi protes ini ketiga."
    highlight = "Hundreds marched on Saturday to demand she resign."
    for limit in range(len(highlight) + 8, len(text) + 8):
        out = passage_markdown(text, highlight, limit)
        after = out.rsplit("**", 1)[1].removesuffix(ELLIPSIS).split()
        assert set(after) <= set(text.split()), (limit, out)


OPENING = "The two leaders agreed to renew the defence pact and to redraw the flight region by 2024."
BEST = "Both leaders said the agreements on the flight region, defence and extradition go together."
BEFORE = (
    "In Bogor on Tuesday the president received the visiting prime minister, his wife and six "
    "ministers for the annual leaders' retreat."
)
LONG_TAIL = " ".join(f"Officials spent session {i} of the talks on trade and tourism." for i in range(12))


def test_a_cut_passage_keeps_the_sentence_before_its_best_one() -> None:
    """The bold sentence was the passage's second; the cut kept the text after it and dropped the
    opening sentence, which held the answer ("what did Jokowi and Lee agree on?")."""
    text = f"{OPENING} {BEST} {LONG_TAIL}"
    bold = f"**{BEST}**"
    for limit in range(len(f"{OPENING} {bold} {ELLIPSIS}"), len(text)):
        out = passage_markdown(text, BEST, limit)
        assert len(out) <= limit and out.startswith(f"{OPENING} {bold} ") and out.endswith(ELLIPSIS), limit
    # Two sentences before the best one and room for one of them: the one just before, after "… ".
    text = f"{BEFORE} {OPENING} {BEST} {LONG_TAIL}"
    out = passage_markdown(text, BEST, len(f"{ELLIPSIS} {OPENING} {bold}") + 40)
    assert out.startswith(f"{ELLIPSIS} {OPENING} {bold} Officials") and out.endswith(ELLIPSIS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_answer_page_keeps_the_opening_sentence_of_a_long_passage(language: str) -> None:
    """Embeds and the plain-text fallback (no Embed Links), where each passage has less room."""
    text = f"{BEFORE} {OPENING} {BEST} {LONG_TAIL}"
    ref = ArticleRef("a", "Leaders meet", "Antara", "https://example.org/a", "2022-01-25", "en", "/c/a.txt")
    page = tuple(Result(r, 0.5, 0.5, text, BEST, (1,), None, ref, "", r) for r in range(1, 6))
    answer = Answer("what did the two leaders agree on?", page, 10.0)
    embed = answer_embed(answer, Filters(), texts(language))
    message = answer_text(answer, Filters(), texts(language))
    assert not problems(message, None) and not problems(None, [embed])
    for shown in (embed.description or "", message):
        assert shown.count(f"{OPENING} **{BEST}**") == 5, shown


def test_article_markdown_and_mentions_are_escaped() -> None:
    text = "Leaders said **nothing** about `code` or __this__. @everyone <@123456789012345678> listen."
    out = passage_markdown(text, "@everyone <@123456789012345678> listen.", 500)
    assert "\\*\\*nothing\\*\\*" in out and "\\`code\\`" in out and "\\_\\_this\\_\\_" in out
    assert "@everyone" not in out and "<@123456789012345678>" not in out
    assert out.endswith("**@\u200beveryone <@\u200b123456789012345678> listen.**")


def live_links(markdown: str) -> list[tuple[str, str]]:
    """The masked links Discord would render: ``(text, url)`` of each ``[text](url)`` not escaped."""
    bare = re.sub(r"\\.", "·", markdown)  # an escaped character is plain text
    return re.findall(r"\[([^\[\]]*)\]\(([^)\s]*)\)", bare)


EVIL = "[Official NATO statement](https://evil.example/login)"
TWO_LINKS = f"See [background](https://nato.int/x) and {EVIL}. **Allies** met ||in secret||."


@pytest.mark.parametrize("where", ["passage", "headline", "outlet"])
def test_links_written_in_an_article_never_render_as_links_in_an_answer(where: str) -> None:
    text = TWO_LINKS if where == "passage" else "Allies met in Vilnius. Japan signed."
    title = TWO_LINKS if where == "headline" else "NATO and Japan"
    source = TWO_LINKS if where == "outlet" else "AP"
    ref = ArticleRef("1", title, source, "https://apnews.com/a", "2024-01-01", "en", None)
    found = (Result(1, 1.0, 1.0, text, "Japan signed.", (1,), None, ref, "", 1),)
    description = answer_embed(Answer("what did NATO agree?", found, 5.0)).description or ""
    assert [url for _, url in live_links(description)] == ["https://apnews.com/a"]  # the citation only
    assert "\\*\\*Allies\\*\\* met \\|\\|in secret\\|\\|" in description  # and what lies between them


def test_links_written_in_a_lede_never_render_as_links_in_latest() -> None:
    item = ArticleSummary("1", "Summit", "AP", "https://apnews.com/a", "2024-01-01", "en", None, TWO_LINKS)
    description = latest_embed([item]).description or ""
    assert live_links(description) == [("Summit", "https://apnews.com/a")]
    assert "\\[Official NATO statement\\](https://evil.example/login)" in description


def test_a_headline_with_brackets_shows_them_without_a_backslash() -> None:
    title = "Watch [live](blog) coverage"
    ref = ArticleRef("1", title, "AP", "https://apnews.com/a", "2024-01-01", "en", None)
    found = (Result(1, 1.0, 1.0, "Allies met.", "Allies met.", (1,), None, ref, "", 1),)
    description = answer_embed(Answer("q", found, 5.0)).description or ""
    assert "— [Watch \\[live\\](blog) coverage](https://apnews.com/a) · AP" in description
    assert live_links(description) == [("Watch ·live·(blog) coverage", "https://apnews.com/a")]


def test_channel_timestamp_command_and_emoji_tokens_in_an_article_do_not_render() -> None:
    tokens = ("<t:1700000000:F>", "<#123456789012345678>", "</ask:123456789012345678>", "<:flag:1234567>")
    text = "Meeting at {} in {}, run {} {}.".format(*tokens)
    ref = ArticleRef("1", "T", "AP", None, "2024-01-01", "en", None)
    found = (Result(1, 1.0, 1.0, text, text, (1,), None, ref, "", 1),)
    description = answer_embed(Answer("q", found, 5.0)).description or ""
    for token in tokens:
        assert token not in description and "<\u200b" + token[1:] in description


def test_citation_links_the_headline_and_names_outlet_date_and_paragraphs() -> None:
    ref = ArticleRef("a", "EU [agrees] sanctions", "AP", "https://apnews.com/a (1)", "2024-02-23", "en", None)
    result = Result(1, 1.0, 1.0, "EU agreed. More later.", "EU agreed.", (4, 5, 6), None, ref, "", 1)
    embed = answer_embed(Answer("what did the EU agree?", (result,), 5.0))
    description = embed.description or ""
    assert description.startswith("**[1]** **EU agreed.** More later.\n")
    assert description.endswith(
        "— [EU \\[agrees\\] sanctions](https://apnews.com/a%20%281%29) · AP · 23 Feb 2024 · ¶4-6"
    )
    assert embed.footer.text == "Passage 1 · 5 ms"


@pytest.mark.parametrize("n", [1, 10])
def test_listings_with_huge_items_fit(n: int) -> None:
    big = "Sentence about diplomacy. " * 400
    items = [
        ArticleSummary(str(i), big, big, "https://example.org/" + "a" * 400, "2024-01-01", "en", None, big)
        for i in range(n)
    ]
    assert problems(None, [latest_embed(items, source=big)]) == []
    sources = [SourceCount(big[: 50 + i], 10**6, "2024-01-01", "2024-01-01") for i in range(500)]
    embed = sources_embed(sources)
    assert problems(None, [embed]) == [] and "more outlets" in (embed.description or "")
    stats = EngineStats(
        data_dir=big,
        generation=3,
        articles=1,
        passages=2,
        languages={f"l{i}": i for i in range(500)},
        sources=[SourceCount(big, 1, None, None)] * 50,
        index_type="flat",
        vectors=2,
        embedder=big,
        configured_embedder=big,
        published_at=None,
        size_bytes=10**9,
    )
    assert problems(None, [stats_embed(stats)]) == []
    report = IndexReport(problems=Problems([ReadProblem(big, big, 3)] * 20))
    assert len(report_text(report)) <= limits.CONTENT_MAX


def test_a_reindex_of_one_article_counts_it_in_the_singular() -> None:
    """It said "1 articles", "1 passages embedded", "Kept 1 articles whose files are gone"."""
    one = IndexReport(1, 1, passages_embedded=1, generation=2, seconds=1.5, articles_gone_kept=1)
    assert report_text(one).splitlines() == [
        "✅ Reindex finished in 1.5 s: 1 article (1 new, 0 updated, 0 removed, 0 unchanged); "
        "1 passage embedded; generation 2.",
        "Kept 1 article whose file is gone: reindex with prune:True removes it.",
    ]
    running = progress_text(IndexProgress("embedding", 1, 1, "articles", 1, 3.0), full=False)
    assert running == "⏳ Reindex running: embedding 1/1 articles · 1 passage embedded · 3 s elapsed"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reindex_with_nothing_new_says_so_not_0_passages_embedded(language: str) -> None:
    tx = texts(language)
    idle = IndexReport(1, 0, articles_unchanged=1, generation=1, seconds=0.5)
    nothing = tx("reindex.nothing_to_embed")
    assert f"; {nothing}; " in report_text(idle, tx)
    for step in (IndexProgress("embedding", 0, 0), IndexProgress("done", 1, 1)):
        assert f" · {nothing} · " in progress_text(step, full=False, tx=tx)
    starting = progress_text(IndexProgress("embedding", 0, 3), full=False, tx=tx)  # all still to embed
    assert tx.plural("reindex.embedded", 0) in starting and nothing not in starting
    assert texts("en")("reindex.nothing_to_embed") == "nothing new to embed"


def test_a_reindex_with_many_skipped_files_lists_the_first_and_counts_the_rest() -> None:
    report = IndexReport(problems=Problems([ReadProblem(f"/news/{n}.txt", "empty file") for n in range(999)]))
    report.problems.more = 1_000

    lines = report_text(report).splitlines()

    assert lines[-7:] == [
        "Skipped 1999:",
        *(f"• /news/{n}.txt: empty file" for n in range(5)),
        "• … and 1994 more",
    ]


def test_problems_reports_what_discord_would_refuse() -> None:
    embed = discord.Embed(title="t" * 257, description="d" * 4097)
    assert problems("c" * 2001, [embed]) == [
        "content 2001 > 2000",
        "embed 0 title 257 > 256",
        "embed 0 description 4097 > 4096",
    ]


@pytest.mark.parametrize("source", ["<@0", "<@!12>", "<@&7>", "<#5>", "<@123456789012345678>"])
def test_a_source_filter_shows_no_mention_or_token_in_the_footer(source: str) -> None:
    """Footers render no Markdown, so only mention syntax is broken there: a short id too (what
    ``escape_mentions`` leaves), not only a real-length one."""
    footer = answer_embed(Answer("q", (), 5.0), Filters(source=source)).footer.text or ""
    assert source.lstrip("<@!&#") in footer  # the filter is shown...
    assert source not in footer and not re.search(r"<[@#]!?&?\d", footer)  # ...as no mention


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_answer_as_text_makes_room_for_the_linked_line_above_it(language: str) -> None:
    """The 🔗 line took its room from the end of a full page: its footer and last citation were
    cut off. The passages make room instead."""
    tx = texts(language)
    ref = ArticleRef("1", "Patrols " * 30, "The Guardian", "https://x.example/a", "2024-03-05", "en", None)
    sentence = "Indonesia and Australia will share radar data on the Arafura Sea. "
    found = tuple(Result(r, 0.9, 0.9, sentence * 30, sentence, (r,), None, ref, "", r) for r in range(1, 4))
    answer = Answer("what will the navies share?", found, 9.0, has_more=True)
    linked = ArticleSummary("1", "Patrols " * 80, "The Guardian", None, "2024-03-05", "en", None, "")
    note = linked_text(linked, tx)
    whole, noted = answer_text(answer, tx=tx), answer_text(answer, tx=tx, note=note)
    footer = whole.rsplit("\n", 1)[1]
    assert footer.startswith("-# ") and len(whole) > 2000 - len(note)  # a full page
    assert noted.startswith(f"{note}\n**what will the navies share?**\n**[1]** ")
    assert noted.endswith(f"\n{footer}") and "**[3]** " in noted and problems(noted) == []
