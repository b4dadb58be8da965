"""The [discord] settings table: defaults, TOML, environment, and a token that is never stored."""

from __future__ import annotations

import dataclasses

import pytest
from foreign_desk.bot.discord.render import progress_text
from foreign_desk.bot.discord.settings import BotSettings, load_bot_settings
from foreign_desk.index.config import load_settings
from foreign_desk.index.errors import ConfigError
from foreign_desk.index.progress import IndexProgress


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
        ({"max_question_chars": 5000}, "discord.max_question_chars must be between 1 and 1,000, got 5000"),
        ({"view_timeout_s": 700000}, "discord.view_timeout_s must be between 1 and 604,800, got 700000"),
        ({"cooldown_s": float("nan")}, "discord.cooldown_s must be between 0 and 86,400, got nan"),
        ({"search_timeout_s": float("inf")}, "discord.search_timeout_s must be between 0 and 3,600, got inf"),
        ({"alert_check_s": 0}, "discord.alert_check_s must be between 0.1 and 3,600, got 0"),
        ({"answer_dms": "yes"}, "discord.answer_dms must be bool"),
    ],
)
def test_bad_settings_are_one_clear_line(table: dict, message: str):
    settings = load_settings(None, environ={})
    settings.extra["discord"] = table
    with pytest.raises(ConfigError) as info:
        load_bot_settings(settings, {})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_number_from_the_environment_is_checked_like_one_from_the_file():
    env = {"FOREIGN_DESK_DISCORD_RESULTS_PER_PAGE": "11"}
    with pytest.raises(
        ConfigError, match="FOREIGN_DESK_DISCORD_RESULTS_PER_PAGE must be between 1 and 10, got 11"
    ):
        load_bot_settings(load_settings(None, environ={}), env)


def test_every_number_has_bounds_that_hold_its_default():
    defaults = BotSettings()
    assert set(BotSettings.BOUNDS) <= {f.name for f in dataclasses.fields(defaults)}  # no typo
    for field in dataclasses.fields(defaults):
        value = getattr(defaults, field.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = BotSettings.BOUNDS[field.name]
            assert low <= value <= high, field.name


def test_the_token_is_never_part_of_the_settings():
    env = {"DISCORD_TOKEN": "secret-token-value"}
    bot = load_bot_settings(load_settings(None, environ=env), env)
    assert "secret" not in repr(bot) and not hasattr(bot, "token")


def test_a_token_in_a_settings_variable_is_refused_with_where_it_belongs_and_never_shown():
    env = {"FOREIGN_DESK_DISCORD_TOKEN": "also-secret"}
    with pytest.raises(ConfigError) as refused:
        load_bot_settings(load_settings(None, environ=env), env)
    assert "DISCORD_TOKEN" in str(refused.value) and "secret" not in str(refused.value)


def test_a_misspelt_discord_variable_is_refused():
    env = {"FOREIGN_DESK_DISCORD_COOLDOWNZ": "5"}
    with pytest.raises(ConfigError, match="unknown setting FOREIGN_DESK_DISCORD_COOLDOWNZ"):
        load_bot_settings(load_settings(None, environ=env), env)


def test_progress_shows_done_of_total_passages_and_elapsed():
    text = progress_text(IndexProgress("embedding", 12, 40, "articles", 96, 14.2), full=True)
    assert text == "⏳ Full reindex running: embedding 12/40 articles · 96 passages embedded · 14 s elapsed"
