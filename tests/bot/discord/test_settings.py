"""The [discord] settings table: defaults, TOML, environment, and a token that is never stored."""

from __future__ import annotations

import pytest
from foreign_desk.bot.discord.render import progress_text
from foreign_desk.bot.discord.settings import BotSettings, load_bot_settings
from foreign_desk.index.config import load_settings
from foreign_desk.index.errors import ConfigError
from foreign_desk.index.models import IndexProgress


def test_toml_then_environment_override_the_defaults(tmp_path):
    config = tmp_path / "desk.toml"
    config.write_text('[discord]\nadmin_role_ids = ["111", 222]\ncooldown_s = 5\nanswer_dms = false\n')
    settings = load_settings(config, environ={})
    env = {"FOREIGN_DESK_DISCORD_ADMIN_USER_IDS": "7, 8", "FOREIGN_DESK_DISCORD_RESULTS_PER_PAGE": "5"}
    bot = load_bot_settings(settings, env)
    assert bot.admin_role_ids == [111, 222] and bot.admin_user_ids == [7, 8]
    assert bot.cooldown_s == 5.0 and bot.answer_dms is False and bot.answer_mentions is True
    assert bot.results_per_page == 5 and bot.max_question_chars == 300
    assert load_bot_settings(load_settings(None, environ={}), {}) == BotSettings()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"cooldown": 3}, "unknown setting 'cooldown' in [discord]"),
        ({"admin_role_ids": ["admins"]}, "discord.admin_role_ids must be a list of numeric ids"),
        ({"max_question_chars": 5000}, "discord.max_question_chars must be between 1 and 1000"),
        ({"view_timeout_s": 700000}, "at most 604800"),
        ({"answer_dms": "yes"}, "discord.answer_dms must be bool"),
    ],
)
def test_bad_settings_are_one_clear_line(table: dict, message: str):
    settings = load_settings(None, environ={})
    settings.extra["discord"] = table
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_bot_settings(settings, {})


def test_the_token_is_never_part_of_the_settings():
    env = {"DISCORD_TOKEN": "secret-token-value", "FOREIGN_DESK_DISCORD_TOKEN": "also-secret"}
    bot = load_bot_settings(load_settings(None, environ=env), env)
    assert "secret" not in repr(bot) and not hasattr(bot, "token")


def test_progress_shows_done_of_total_passages_and_elapsed():
    text = progress_text(IndexProgress("embedding", 12, 40, "articles", 96, 14.2), full=True)
    assert text == "⏳ Full reindex running: embedding 12/40 articles · 96 passages embedded · 14 s elapsed"
