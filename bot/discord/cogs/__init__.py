"""One cog per feature: /ask, /latest and /sources, /admin (with its feed commands), /follow, mentions
and DMs."""
