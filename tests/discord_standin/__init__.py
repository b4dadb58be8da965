"""discord_standin — a loopback stand-in for Discord that an unmodified discord.py talks to.

Why: mocks of `discord.Interaction` prove little. Here a real `discord.Client`/`commands.Bot`
logs in over REST, connects to a real websocket gateway (HELLO, IDENTIFY, READY, GUILD_CREATE,
heartbeats, zlib-stream), receives INTERACTION_CREATE / MESSAGE_CREATE payloads shaped like
Discord's, and answers through the same REST routes it would use in production. The stand-in
records everything and checks it against Discord's rules (3 s to acknowledge, one initial
response, message and embed limits, allowed_mentions), answering with Discord's status codes
and JSON error bodies, so the bot's own error handling is exercised too.

Setup: add `pytest_plugins = ["tests.discord_standin.fixtures"]` to `tests/conftest.py` (see
`fixtures.py`); the fixtures are `standin`, `standin_config` and `client_options`.

Quick start (this exact test lives in `test_example.py`)::

    async def test_ask(standin, client_options):
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), **client_options)

        @bot.tree.command()
        async def ask(interaction: discord.Interaction, question: str) -> None:
            \"\"\"Ask the desk a question.\"\"\"
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"You asked: {question}")

        async with standin.run_client(bot):
            ix = await standin.send_slash_command("ask", {"question": "Who chairs the UNSC?"})
            reply = await ix.wait_for_reply(timeout=5)

        assert reply.content == "You asked: Who chairs the UNSC?"
        assert ix.callback_type == 5 and not reply.ephemeral
        standin.assert_no_pings()

Main API (on `DiscordStandin`; modules: `server` lifecycle/queries, `actions` user-side helpers,
`gateway`, `rest` + `interaction_routes`, `messaging`, `records`, `validation`, `mentions`):

- world: `application_id`, `bot`, `guild`, `general`, `announcements` (bot may not post),
  `admin` (Manage Guild via the Admin role), `user` (plain member), `owner`, `bot_role` (the
  bot's managed role); add more with `standin.world.add_user/add_member/add_role/add_text_channel`
  (each takes `guild=`), `world.add_thread(name, parent, private=, members=, archived=,
  locked=)`, `world.add_guild(name, shard=(id, count))` before the bot starts;
  `world.dm_channel(user)`;
  `world.private_channel(*users)` (a group DM of users without the bot);
  `world.team` (a list of `TeamMember`) makes a team own the application.
- world changes the bot is told about: `await standin.add_guild(name)` (GUILD_CREATE:
  on_guild_join), `remove_bot_from_guild(guild)` (GUILD_DELETE; then 403 50001 for its
  channels), `delete_channel(channel)` (CHANNEL_DELETE, or THREAD_DELETE for a
  thread the bot sees; then 404 10003, for a channel's threads too), `update_thread(thread)`
  (THREAD_UPDATE after editing its `archived` / `locked`),
  `update_channel(channel)` (CHANNEL_UPDATE after editing its overwrites), `update_guild(guild)`
  (GUILD_UPDATE after editing its `preferred_locale`).
- shards: IDENTIFY's `[shard_id, shard_count]` picks the guilds a session receives; each
  guild's events go to the session of `(guild_id >> 22) % shard_count` (DMs to shard 0), so
  several clients or processes share the guilds; `sessions_by_shard()`; more than
  `max_guilds_per_shard` guilds on a shard closes it with 4011; GET /gateway/bot recommends
  `recommended_shards`.
- threads: a thread has its parent's permissions (so has an interaction's `app_permissions`
  there: Discord does not fold a private thread's membership in, as far as known); posting takes
  Send Messages in Threads; a private thread is seen only by its `member_ids` and by Manage
  Threads (else 50001; GUILD_CREATE lists the active threads the bot sees, with its `member`);
  a locked thread answers 400 50083 to a bot without Manage Threads; a message in an archived
  thread that is not locked unarchives it (THREAD_UPDATE);
  `GET /channels/{id}/thread-members/{user_id}` (404 10007 for a non-member).
- rate limits: `route_limits` / `global_limit` (real counters, Discord's headers, 429 with
  Retry-After, shared by every client with the token) and `standin.rate_limits.inject(...)`;
  see `ratelimits.py`. `enforce_nonce` returns the earlier message with the same nonce.
- `hold_answers(predicate)`: matching requests are carried out but answered only on
  `hold.release()` (kill a bot between "Discord posted it" and "the bot knows"; `holds.py`), or
  answered with an error on `hold.fail(status)` (a 5xx after Discord did the work).
- users act: `send_slash_command(path, options, user=, channel=, dm=, permissions=,
  app_permissions=, locale=, installed=, force=)` (`locale` users may type localized names;
  `installed="user"` for a user installation), `send_message_command(message, name, …)`
  (right-click → Apps), `send_autocomplete(path, options, focused=)`,
  `click_button(message, custom_id= | label=)`, `select_options(message, values)`,
  `submit_modal(interaction, values)`, `send_message(content, author=, channel=, dm=, reply_to=)`,
  `forward_message(message, author=, channel=)`,
  `send_interaction(type, data, …)` (raw), `dispatch(event, data)` (any gateway event).
  Misuse Discord's client would prevent (unknown options, hidden commands, disabled buttons)
  raises `StandinUsageError` in the test.
- interactions: each helper returns an `InteractionRecord`: `callback_type`, `original`,
  `followups`, `reply`, `replies`, `timeline` (callback/update/edit/followup/… in order),
  `autocomplete_choices`, `modal`, `rejected` (refused requests), `response_latency`, and
  `await wait_for_callback()`, `wait_for_reply(predicate)`, `wait_for_choices()`.
- messages: `StoredMessage` holds the current state (`content`, `embeds`, `components`,
  `flags`, `ephemeral`, `loading`, `deleted`, `text`, `pings`, `revisions`, `find_component`).
  `standin.message(id)`, `bot_messages(channel)`, `wait_for_bot_message(predicate, channel=)`.
- commands: `commands.global_commands` / `guild_commands` as synced (localizations,
  `integration_types`, `contexts` included), `commands.seen_by(locale)` (as that user reads them).
- REST log: `requests` (`RecordedRequest`: method, path, route, json, files, status, response,
  error_code, allowed_mentions, mentions_suppressed, pings), `wait_for_request(predicate,
  after=)`, `unknown_routes()`, `error_responses()`, `message_requests()`,
  `pinging_requests()`, `assert_no_pings()`.
- gateway: `heartbeats`, `heartbeat_intervals()`, `wait_for_heartbeats(n)`,
  `gateway.connections` (compression, close_code, closed_by, received payloads),
  `gateway.current` session (intents, resumes, log), `request_heartbeat()`,
  `request_reconnect()`, `invalidate_session()`, `drop_connection()`.
- `StandinConfig`: heartbeat_interval_ms, interaction_ack_timeout, interaction_token_ttl,
  bot_token, privileged_intents, split_compressed_frames, strict_commands, max_guilds_per_shard,
  recommended_shards, route_limits, global_limit, nonce_window_s, role_mention_shows_content,
  every_session_of_shard.
- `refusals.inject(matches, status, code, message=, count=)`: the next matching request(s) get
  that error (say a 403 with code 40333, Cloudflare's block), whatever the world allows.
- `mentions.would_ping(body)`: Discord's allowed_mentions rule for one request body.

How discord.py is pointed here: `patching.point_discord_py_at` swaps `discord.http.Route.BASE`
(all REST, interaction webhooks included) and `DiscordWebSocket.DEFAULT_GATEWAY` (a plain
`Client` never asks `/gateway/bot`), restoring both. A bot in another process: run it as
`python -m tests.discord_standin.launch HTTP_URL GATEWAY_URL -m module args…` (`launch.py`),
which points that process's discord.py here and then runs the module as `__main__`.

discord.py facts worth knowing (found by running it here): it waits `guild_ready_timeout` (2 s)
after GUILD_CREATE before `on_ready` (the `client_options` fixture sets 0.05); it waits 5 s before
re-IDENTIFYing after INVALID_SESSION; `Client.close()` ends up closing the socket with 4000, not
1000, with aiohttp 3.x; `AllowedMentions(users=True)` leaves everyone/roles/replied_user on.

Not reproduced (be careful what a green test proves): Discord's actual per-route limits (only
those configured in `route_limits` exist) and sub-limits; the identify rate limit
(`max_concurrency`, one IDENTIFY per 5 s) and session start limits; resharding, guild
unavailability during outages, and 4012/4013; ETF encoding; zstd-stream is served only if
`zstandard` is installed (untested here); presences, voice, threads beyond the above (no THREAD_CREATE,
THREAD_MEMBERS_UPDATE or THREAD_LIST_SYNC; a sender is not made a thread member; announcement and
forum threads; Discord's limits on active threads), reactions beyond a 204,
stickers, polls; permission checks beyond viewing, sending, embedding, replying (Read Message
History: 403 160002), managing messages and command visibility; who may click an ephemeral
message; Components V2 layout validation; the
exact text of rarer 50035 cases (callback type mismatches, command registration); edits
notifying nobody (`would_ping` judges edits like new messages and ignores @everyone permission
and role mentionability); zombie-connection handling (a missed heartbeat is recorded, never
punished); CDN/attachment downloads; entitlements; user commands (send them with
`send_interaction`); whether Discord withholds the text of a message that mentions the bot's
managed role from a bot without Message Content (`role_mention_shows_content` plays both);
server settings that force a user-installed app's replies to be ephemeral; world changes made
after READY other than those
above (use `standin.dispatch("GUILD_MEMBER_ADD", …, guild=)`; role edits are not announced);
the stand-in shares the test's event loop, so it cannot answer while a bot in the same process
blocks the loop (a bot run in another process with `launch.py` does not share it).
"""

from __future__ import annotations

from .errors import DiscordHTTPError, StandinError, StandinUsageError, StandinWarning
from .mentions import Pings, would_ping
from .patching import point_discord_py_at
from .records import HeartbeatRecord, InteractionEvent, InteractionRecord, RecordedRequest, StoredMessage
from .server import DiscordStandin, StandinConfig
from .world import Channel, Overwrite, Perm, Role, User, World

__all__ = [
    "Channel",
    "DiscordHTTPError",
    "DiscordStandin",
    "HeartbeatRecord",
    "InteractionEvent",
    "InteractionRecord",
    "Overwrite",
    "Perm",
    "Pings",
    "RecordedRequest",
    "Role",
    "StandinConfig",
    "StandinError",
    "StandinUsageError",
    "StandinWarning",
    "StoredMessage",
    "User",
    "World",
    "point_discord_py_at",
    "would_ping",
]
