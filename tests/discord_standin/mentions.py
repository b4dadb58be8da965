"""Would a message body have pinged anyone? Discord's allowed_mentions rule, applied to content.

Discord parses mentions from `content` only (never embeds). Without `allowed_mentions` every
mention in the content pings, and a reply pings the replied-to author. With it, a user mention
pings only if `parse` has "users" or the id is in `users`; likewise roles; @everyone/@here only if
`parse` has "everyone"; a reply pings its author only with `replied_user: true`.

Deliberately conservative (it may over-report): it ignores whether the sender may mention
@everyone or the role is mentionable, whether the user can see the channel, and code blocks;
edits are judged like new messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")


@dataclass(frozen=True)
class Pings:
    """Who a message would notify; falsy when nobody."""

    everyone: bool = False
    users: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[int] = field(default_factory=frozenset)
    replied_user: bool = False

    def __bool__(self) -> bool:
        return self.everyone or bool(self.users) or bool(self.roles) or self.replied_user


def would_ping(body: dict[str, Any] | None, *, is_reply: bool | None = None) -> Pings:
    """Apply the allowed_mentions rule to one create/edit body (or an interaction callback's `data`).

    `is_reply` defaults to whether the body carries a `message_reference`.
    """
    if not body:
        return Pings()
    content = str(body.get("content") or "")
    users = {int(m) for m in USER_MENTION.findall(content)}
    roles = {int(m) for m in ROLE_MENTION.findall(content)}
    everyone = bool(EVERYONE_MENTION.search(content))
    reply = bool(body.get("message_reference")) if is_reply is None else is_reply
    allowed = body.get("allowed_mentions")
    if allowed is None:
        return Pings(everyone, frozenset(users), frozenset(roles), reply)
    parse = set(allowed.get("parse") or [])
    ok_users = users if "users" in parse else users & {int(u) for u in allowed.get("users") or []}
    ok_roles = roles if "roles" in parse else roles & {int(r) for r in allowed.get("roles") or []}
    return Pings(
        everyone=everyone and "everyone" in parse,
        users=frozenset(ok_users),
        roles=frozenset(ok_roles),
        replied_user=reply and bool(allowed.get("replied_user")),
    )


def mentions_suppressed(allowed: dict[str, Any] | None) -> bool:
    """True when an allowed_mentions object forbids every kind of ping (e.g. `{"parse": []}`)."""
    if allowed is None:
        return False
    return not (
        allowed.get("parse") or allowed.get("users") or allowed.get("roles") or allowed.get("replied_user")
    )
