"""The ``[discord]`` settings table and the token.

Every setting has a default; ``[discord]`` in the TOML file overrides it, then environment
variables ``FOREIGN_DESK_DISCORD_<FIELD>`` (``FOREIGN_DESK_DISCORD_COOLDOWN_S=5``; lists are
comma-separated ids). The token is read only from ``DISCORD_TOKEN`` at the moment of logging in
and is never stored in a settings object, so it cannot reach a log or a repr.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from foreign_desk.index.config import Bounds, Settings, build
from foreign_desk.index.errors import ConfigError

ENV_PREFIX = "FOREIGN_DESK_DISCORD_"
TOKEN_ENV = "DISCORD_TOKEN"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._-]+")
"""What a bot token is made of: base64url parts joined by dots."""
QUESTION_CEILING = 1000
"""Longest question the slash command option accepts at all; ``max_question_chars`` must not exceed it."""


@dataclass(frozen=True)
class BotSettings:
    """How the bot behaves towards users; see the README for each knob."""

    BOUNDS: ClassVar[Bounds] = {
        "cooldown_s": (0, 86_400),
        "max_question_chars": (1, QUESTION_CEILING),
        "max_concurrent_searches": (1, 256),
        "search_timeout_s": (0, 3_600),
        "results_per_page": (1, 10),
        "view_timeout_s": (1, 7 * 86_400),
        "status_edit_interval_s": (0, 600),
        "alert_check_s": (0.1, 3_600),
        "max_follows_per_channel": (1, 25),
        "max_follows_per_server": (1, 10_000),
        "interaction_token_s": (1, 900),  # Discord's lifetime is 900
        "takeover_check_s": (0.1, 3_600),
        "identify_spacing_s": (0, 600),
        "alert_attempts": (1, 100),
        "alert_retry_s": (0.1, 86_400),
        "forget_after_days": (0, 3_650),
        "housekeeping_s": (0.1, 86_400),
        "server_fetch_spacing_s": (0, 86_400),
    }

    admin_role_ids: list[int] = field(default_factory=list)
    """Roles allowed to use /admin besides members with Manage Server."""
    admin_user_ids: list[int] = field(default_factory=list)
    """Users allowed to use /admin besides members with Manage Server."""
    answer_mentions: bool = True
    """Answer "@Foreign Desk <question>" in server channels."""
    answer_dms: bool = True
    """Answer questions sent in a direct message."""
    cooldown_s: float = 10.0
    """Seconds a user waits between two questions (0 turns the cooldown off)."""
    max_question_chars: int = 300
    max_concurrent_searches: int = 4
    """Searches in flight at once (questions, and /latest on a topic); more wait for a free slot."""
    search_timeout_s: float = 60.0
    """A search that waited this long for a slot and its result gets a "busy" reply."""
    results_per_page: int = 3
    view_timeout_s: float = 3600.0
    """Seconds an answer's More/Back and 👍/👎 buttons keep working, across restarts; after that a
    click says the answer expired."""
    status_edit_interval_s: float = 2.0
    """Least seconds between two edits of a reindex or fetch status message."""
    reindex_paths: list[str] = field(default_factory=list)
    """What /operator reindex indexes; empty means the shipped corpus."""
    poll_feeds: bool = True
    """Poll the registered feeds in the background while the bot runs (each on its own interval)."""
    alert_check_s: float = 15.0
    """Most seconds between two looks for topic alerts that are due (a new match is looked at sooner)."""
    max_follows_per_channel: int = 25
    """Topics one channel may follow (/follow refuses more)."""
    max_follows_per_server: int = 100
    """Follows one server may have across its channels (/follow refuses more): each is an alert
    to send, and one server's many must not crowd out the others'."""
    operator_guild_ids: list[int] = field(default_factory=list)
    """Servers where the /operator commands are registered (empty: nowhere; the CLI does it all)."""
    interaction_token_s: float = 900.0
    """Discord's interaction token lifetime: a long job's status moves to a DM (or a channel
    message) a minute before it ends."""
    takeover_check_s: float = 10.0
    """Seconds between two tries of a standby process to take over the background work."""
    identify_spacing_s: float = 5.0
    """Least seconds between two gateway IDENTIFYs by any process on this data folder."""
    alert_attempts: int = 5
    """Tries to post one alert before it is dropped (with a log line; ``/following`` lists it)."""
    alert_retry_s: float = 30.0
    """Seconds before the first retry of an alert Discord refused; doubled after each."""
    forget_after_days: float = 30.0
    """A server that removed the bot keeps its own feeds and articles this long, then they go."""
    housekeeping_s: float = 3600.0
    """Seconds between two looks for servers to forget (by the process doing background work)."""
    server_fetch_spacing_s: float = 60.0
    """Least seconds between two /admin fetch of one server: each polls the server's feeds at
    once, past their schedule and a site's Retry-After, from the host every server's feeds share."""

    def __post_init__(self) -> None:
        for name in ("admin_role_ids", "admin_user_ids", "operator_guild_ids"):
            try:
                ids = [int(v) for v in getattr(self, name)]
            except (TypeError, ValueError):
                raise ConfigError(f"discord.{name} must be a list of numeric ids") from None
            object.__setattr__(self, name, ids)
        object.__setattr__(self, "reindex_paths", [str(p) for p in self.reindex_paths])

    @property
    def handoff_after_s(self) -> float:
        """When a long job's status leaves the interaction: a minute (or a fifth) before the token ends."""
        return self.interaction_token_s - min(60.0, self.interaction_token_s / 5)

    @property
    def handoff_retry_s(self) -> float:
        """Seconds before the first retry of a status DM that failed for a reason that may pass
        (doubled after each, ``status.ATTEMPTS`` tries): a twelfth of that minute, 5 s."""
        return min(60.0, self.interaction_token_s / 5) / 12


def load_bot_settings(
    settings: Settings, environ: Mapping[str, str] | None = None, **overrides: Any
) -> BotSettings:
    """``BotSettings`` from ``settings.extra["discord"]`` and the environment, then ``overrides``."""
    environ = os.environ if environ is None else environ
    if f"{ENV_PREFIX}TOKEN" in environ:  # refused by name below too; say where the token goes
        raise ConfigError(f"{ENV_PREFIX}TOKEN is not read: put the bot token in {TOKEN_ENV}")
    raw = settings.extra.get("discord", {})
    bot = build(BotSettings, raw, environ, ENV_PREFIX, "discord")
    return dataclasses.replace(bot, **overrides) if overrides else bot


def read_token(environ: Mapping[str, str] | None = None) -> str:
    """The bot token from ``DISCORD_TOKEN``; a one-line error when it is missing."""
    from .errors import TokenMissing  # here: checking the settings (every command) needs no discord.py

    environ = os.environ if environ is None else environ
    token = (environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise TokenMissing(
            f"{TOKEN_ENV} is not set: copy the bot token from the Discord developer portal "
            f"(Applications → your app → Bot → Reset Token) and export {TOKEN_ENV}=..."
        )
    if not _TOKEN_CHARS.fullmatch(token):  # else Discord's 401 would say only "rejected"
        raise TokenMissing(
            f"{TOKEN_ENV} holds characters no Discord token has (quotes around it, which docker's "
            '--env-file keeps? a "Bot " prefix? a space?): set it to the token alone, as the '
            "developer portal's Bot tab shows it"
        )
    return token
