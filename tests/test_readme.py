"""The README stays true: its two commands exist and CI runs the same one; every setting is documented."""

from __future__ import annotations

import dataclasses
import re

from foreign_desk.bot.discord.settings import BotSettings
from foreign_desk.index.config import Settings

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    assert "scripts/test\n" in README
    assert "scripts/setup && .venv/bin/foreign-desk ask" in README
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()
    for script in ("scripts/setup", "scripts/test", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"


def sections() -> list[tuple[str | None, object]]:
    defaults = Settings()
    out: list[tuple[str | None, object]] = [(None, defaults), ("discord", BotSettings())]
    for field in dataclasses.fields(defaults):
        value = getattr(defaults, field.name)
        if dataclasses.is_dataclass(value):
            out.append((field.name, value))
    return out


def test_every_setting_is_in_the_configuration_reference() -> None:
    missing = []
    for section, defaults in sections():
        if section is not None and f"[{section}]" not in README:
            missing.append(f"[{section}]")
        for field in dataclasses.fields(defaults):  # type: ignore[arg-type]
            if field.name == "extra" or dataclasses.is_dataclass(getattr(defaults, field.name)):
                continue
            if not re.search(rf"^{field.name} = ", README, re.MULTILINE):
                missing.append(f"{section or 'top level'}.{field.name}")
    assert not missing, f"settings missing from README: {missing}"
