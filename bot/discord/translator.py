"""Command names, descriptions and option texts from the catalogues, through discord.py's Translator.

Commands declare their texts as ``L("command.ask.description")``: a ``locale_str`` whose default
message is the English catalogue's text and whose ``key`` extra names the entry. ``tree.sync``
asks ``DeskTranslator`` for every Discord locale and sends what it answers as
``name_localizations`` / ``description_localizations``; Discord shows Indonesian users the
Indonesian names and descriptions, and still sends the interaction with the default names.
"""

from __future__ import annotations

from discord import Locale, app_commands

from .i18n import DEFAULT, catalogue, language_of


def L(key: str) -> app_commands.locale_str:
    """A command text: English by default, translated by ``DeskTranslator``."""
    return app_commands.locale_str(catalogue(DEFAULT)[key], key=key)


class DeskTranslator(app_commands.Translator):
    """Answers the catalogue text for locales the bot speaks besides English; None otherwise."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        language = language_of((locale,))
        if key is None or language == DEFAULT:
            return None
        return catalogue(language).get(key)
