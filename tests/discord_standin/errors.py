"""Discord's JSON error bodies, and the exceptions the stand-in raises at tests that misuse it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# JSON error codes used by the stand-in (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
MISSING_ACCESS = 50001
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
UNKNOWN_USER = 10013
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
CANNOT_SEND_EMPTY_MESSAGE = 50006
CANNOT_EDIT_OTHERS_MESSAGE = 50005
MISSING_PERMISSIONS = 50013
UNKNOWN_MEMBER = 10007
THREAD_ARCHIVED = 50083
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109
ALREADY_ACKNOWLEDGED = 40060
CANNOT_REPLY_WITHOUT_HISTORY = 160002


class StandinError(Exception):
    """Base class of the stand-in's own exceptions."""


class StandinUsageError(StandinError):
    """A test asked for something Discord would never send (e.g. a button that isn't on the message)."""


class DiscordHTTPError(StandinError):
    """Raised inside a REST handler; becomes the HTTP status and JSON body Discord would answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def json_error(status: int, code: int, message: str) -> DiscordHTTPError:
    return DiscordHTTPError(status, {"message": message, "code": code})


def unknown_interaction() -> DiscordHTTPError:
    return json_error(404, UNKNOWN_INTERACTION, "Unknown interaction")


def already_acknowledged() -> DiscordHTTPError:
    return json_error(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")


def unknown_webhook() -> DiscordHTTPError:
    return json_error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")


def invalid_webhook_token() -> DiscordHTTPError:
    return json_error(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")


def unknown_message() -> DiscordHTTPError:
    return json_error(404, UNKNOWN_MESSAGE, "Unknown Message")


def unknown_channel() -> DiscordHTTPError:
    return json_error(404, UNKNOWN_CHANNEL, "Unknown Channel")


def missing_access() -> DiscordHTTPError:
    """What Discord answers for a channel or guild the bot cannot see (not a member, no View Channel)."""
    return json_error(403, MISSING_ACCESS, "Missing Access")


def unknown_guild() -> DiscordHTTPError:
    return json_error(404, UNKNOWN_GUILD, "Unknown Guild")


def missing_permissions() -> DiscordHTTPError:
    return json_error(403, MISSING_PERMISSIONS, "Missing Permissions")


def thread_archived() -> DiscordHTTPError:
    """A message in a locked thread (archived or not) from a bot without Manage Threads."""
    return json_error(400, THREAD_ARCHIVED, "Thread is archived")


def cannot_reply() -> DiscordHTTPError:
    """A reply (``message_reference``) where the bot lacks Read Message History."""
    return json_error(
        403, CANNOT_REPLY_WITHOUT_HISTORY, "Cannot reply without permission to read message history"
    )


def empty_message() -> DiscordHTTPError:
    return json_error(400, CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")


def unauthorized() -> DiscordHTTPError:
    return DiscordHTTPError(401, {"message": "401: Unauthorized", "code": 0})


def route_not_found() -> DiscordHTTPError:
    return DiscordHTTPError(404, {"message": "404: Not Found", "code": 0})


class FormErrors:
    """Collects field errors into Discord's nested `errors` object.

    `add(("embeds", 0, "title"), "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length.")` yields
    `{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}`.
    """

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: tuple[str | int, ...], low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: tuple[str | int, ...]) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def exception(self) -> DiscordHTTPError:
        """The 400 Invalid Form Body carrying the collected errors."""
        return DiscordHTTPError(
            400, {"message": "Invalid Form Body", "code": INVALID_FORM_BODY, "errors": self.tree}
        )

    def raise_if_any(self) -> None:
        if self.tree:
            raise self.exception()


class StandinWarning(UserWarning):
    """Something a test should look at, e.g. the bot called a route the stand-in doesn't know."""


@dataclass
class Refusal:
    """An error a test asked for: the next `count` requests for which `matches(method, path)`
    holds get `status` with Discord's JSON body for `code`; `sent` counts them."""

    matches: Callable[[str, str], bool]
    status: int
    code: int
    message: str
    count: int = 1
    sent: int = 0


class Refusals:
    """Errors injected by tests (`DiscordStandin.refusals.inject`), checked before a route's handler."""

    def __init__(self) -> None:
        self.injected: list[Refusal] = []

    def inject(
        self,
        matches: Callable[[str, str], bool],
        status: int,
        code: int,
        message: str = "Refused.",
        count: int = 1,
    ) -> Refusal:
        refusal = Refusal(matches, status, code, message, count)
        self.injected.append(refusal)
        return refusal

    def check(self, method: str, path: str) -> None:
        """Raise the first injected refusal left that matches this request."""
        for refusal in self.injected:
            if refusal.sent < refusal.count and refusal.matches(method, path):
                refusal.sent += 1
                raise DiscordHTTPError(refusal.status, {"message": refusal.message, "code": refusal.code})
