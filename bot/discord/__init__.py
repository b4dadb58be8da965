"""The Discord front end: slash commands, mentions and DMs over the same engine as the CLI.

Layout: ``settings`` (the ``[discord]`` table and the token), ``limits``, ``i18n`` (the English
and Indonesian catalogues in ``locales/``, and which language a reader gets), ``translator``
(command names and descriptions from them), ``reach`` (where each command is offered: user
installs, DMs, group DMs), ``render``, ``render_feeds`` and ``render_help`` (pure functions:
engine values → texts and embeds that fit Discord's limits), ``links`` (link buttons, with
translations), ``views`` (Back / More / 👍 / 👎, which work across restarts) over ``answers``
(their state and the votes, in the bot's own SQLite file), ``desk`` (question checks, the
per-user cooldown of ``cooldowns``, the bound on searches in flight), ``permissions`` (who may
use what), ``status`` (a status message edited with progress), ``alerts`` (the loop that posts
topic alerts), ``tree`` (the one error handler), ``failures`` (what users may read of a
failure: none of the host's paths), ``client`` (the bot and its lifecycle),
``cogs/`` (one feature each) and ``runner`` (what ``foreign-desk run`` and ``foreign-desk sync``
call). Nothing here imports at package import time beyond this docstring.
"""
