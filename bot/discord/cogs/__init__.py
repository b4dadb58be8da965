"""One cog per feature: /ask, /latest and /sources, /admin, mentions and DMs."""
