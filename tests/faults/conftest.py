"""The feed fixtures (a loopback news server, a ``FeedDesk`` on an empty store, a fake clock)."""

from tests.feeds.conftest import clock, desk, engine, feed_settings, server

__all__ = ["clock", "desk", "engine", "feed_settings", "server"]
