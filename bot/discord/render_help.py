"""/help: what the desk knows, three questions to try from the current corpus, and the commands.
Pure functions, like ``render``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import discord
from foreign_desk.index.models import ArticleSummary, SourceCount

from .i18n import EN, Texts
from .limits import EMBED_DESCRIPTION_MAX, FIELD_VALUE_MAX, escape, fit, join_within
from .render import COLOUR

EXAMPLES = 3
EXAMPLE_WORDS = 10
OUTLETS_NAMED = 8


@dataclass(frozen=True)
class CommandLine:
    """A command as /help lists it: its name and description in the reader's language."""

    name: str
    description: str
    managers_only: bool


@dataclass(frozen=True)
class Knowledge:
    """What /help says the desk knows, as the asker's scope sees it: outlets (most articles
    first) and live articles per language code."""

    sources: Sequence[SourceCount]
    languages: dict[str, int]

    @property
    def articles(self) -> int:
        return sum(self.languages.values())


def example_questions(items: Sequence[ArticleSummary], tx: Texts = EN, count: int = EXAMPLES) -> list[str]:
    """Questions about ``count`` of ``items`` (newest first), showing what the corpus holds: each
    from another outlet, taking turns between languages where it can."""
    picked: list[ArticleSummary] = []

    def fits(item: ArticleSummary, strictness: int) -> bool:
        new_outlet = all(p.source != item.source for p in picked)
        turn = not picked or picked[-1].language != item.language
        return item not in picked and (strictness == 0 or (new_outlet and (strictness == 1 or turn)))

    for strictness in (2, 1, 0):
        for item in items:
            if len(picked) < count and fits(item, strictness):
                picked.append(item)
    return [tx("help.example", subject=_subject(item.title)) for item in picked]


def _subject(title: str) -> str:
    """A headline, at most ``EXAMPLE_WORDS`` words, without a trailing clause after ':' or ' - '."""
    head = re.split(r"\s[-–—|]\s|:\s", title, maxsplit=1)[0].strip()
    words = head.split()
    cut = " ".join(words[:EXAMPLE_WORDS]).rstrip(".,;!?")
    return cut + ("…" if len(words) > EXAMPLE_WORDS else "")


def knowledge_text(known: Knowledge, tx: Texts = EN) -> str:
    """ "57 articles from 4 outlets (Antara, ...), in Indonesian and English, the newest of 14 Mar 2024"."""
    sources = known.sources
    if not known.articles:
        return tx("help.empty")
    named = ", ".join(escape(s.source) for s in sources[:OUTLETS_NAMED])
    if len(sources) > OUTLETS_NAMED:
        named += ", " + tx("list.and_more", n=len(sources) - OUTLETS_NAMED).lstrip("… ")
    languages = [escape(tx.language_name(code)) for code in known.languages if code != "?"]
    newest = max((s.latest_day for s in sources if s.latest_day), default=None)
    return tx(
        "help.knows",
        articles=tx.plural("count.articles", known.articles),
        outlets=tx.plural("count.outlets", len(sources)),
        named=named,
        languages=_joined(languages, tx),
        newest=tx.date(newest) or tx("sources.undated"),
    )


def _joined(names: Sequence[str], tx: Texts) -> str:
    if len(names) <= 1:
        return "".join(names)
    return tx("list.and", items=", ".join(names[:-1]), last=names[-1])


def _commands_text(commands: Sequence[CommandLine]) -> str:
    lines = [f"**/{c.name}** — {c.description}" for c in commands]
    return join_within(lines, "\n", lambda n: f"… +{n}", limit=FIELD_VALUE_MAX)


def help_embed(
    known: Knowledge,
    examples: Sequence[str],
    commands: Sequence[CommandLine],
    tx: Texts = EN,
    bot_name: str = "Foreign Desk",
) -> discord.Embed:
    """The whole /help message, in the reader's language."""
    parts = [tx("help.intro"), fit(knowledge_text(known, tx), 1500)]
    if examples:
        parts.append(tx("help.try") + "\n" + "\n".join(f"• {fit(e, 300, escape)}" for e in examples))
    embed = discord.Embed(title=tx("help.title"), colour=COLOUR)
    embed.description = fit("\n\n".join(parts), EMBED_DESCRIPTION_MAX)
    everyone = [c for c in commands if not c.managers_only]
    managers = [c for c in commands if c.managers_only]
    embed.add_field(name=tx("help.commands"), value=_commands_text(everyone) or "-", inline=False)
    if managers:
        embed.add_field(name=tx("help.managers"), value=_commands_text(managers), inline=False)
    embed.add_field(name=tx("help.more_ways"), value=tx("help.mention_and_menu", bot=bot_name), inline=False)
    embed.set_footer(text=tx("help.footer"))
    return embed
