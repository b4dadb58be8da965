"""The engine's error hierarchy: the front ends catch ``ForeignDeskError`` and show its message.

Every message is one line a user can act on; tracebacks are for bugs, not for these.
"""

from __future__ import annotations

from foreign_desk.index.secrets import hide_secrets


class ForeignDeskError(Exception):
    """Base of every error a user can cause or fix."""


class ConfigError(ForeignDeskError):
    """The configuration file or an environment variable is invalid."""


class UnreadableFile(ConfigError):
    """A settings file that cannot be read at all (missing, a folder, no permission): a path
    named on the command line (``--config``) is then a path that cannot be used, not a bad setting."""


class ReaderError(ForeignDeskError):
    """A corpus file cannot be read (bad encoding, empty, broken JSON, binary)."""


class QuestionTooLong(ForeignDeskError):
    """A question over ``search.max_question_chars``."""


class EmbedderError(ForeignDeskError):
    """The embedding backend cannot be loaded or used."""


class FingerprintMismatch(ForeignDeskError):
    """The index was built by another embedder than the one configured."""


class StoreError(ForeignDeskError):
    """The store on disk is missing, locked, or unusable."""


WRITER_BUSY = "another process is writing to the index"
"""How the writer's lock's ``StoreBusy`` begins (``store.lock``); a recorded failure quoting it is a
busy store (``feeds.busy_failure``)."""


class StoreBusy(StoreError):
    """Another process holds the store past the wait (writing, indexing, restoring): nothing is
    wrong, and the same request a moment later may pass."""


class EmptyIndex(StoreError):
    """Nothing has been indexed yet."""


class FetchError(ForeignDeskError):
    """A URL or feed could not be fetched or was refused. Its message names the URL with its
    credentials hidden: it is logged, stored as the feed's last error and shown in Discord."""

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(hide_secrets(str(message)), *args)
