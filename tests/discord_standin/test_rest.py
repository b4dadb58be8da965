"""The REST surface at the HTTP level: Discord's limits, error bodies and interaction rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from .mentions import would_ping
from .patching import point_discord_py_at
from .server import DiscordStandin


@pytest.fixture
async def http(standin: DiscordStandin) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {standin.config.bot_token}"}
    async with aiohttp.ClientSession(f"{standin.http_url}/api/v10/", headers=headers) as session:
        yield session


def button(**fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": "go", **fields}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def buttons(n: int) -> list[dict[str, Any]]:
    return [button(custom_id=f"b{i}") for i in range(n)]


EMBED_OK = {"title": "t" * 256, "description": "d" * 4096}

# (body, path of the error inside `errors`, Discord's error code)
REJECTED = [
    ({"content": "x" * 2001}, "content", "BASE_TYPE_MAX_LENGTH"),
    ({"embeds": [{"title": "t"}] * 11}, "embeds", "BASE_TYPE_MAX_LENGTH"),
    ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title", "BASE_TYPE_MAX_LENGTH"),
    ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description", "BASE_TYPE_MAX_LENGTH"),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields", "BASE_TYPE_MAX_LENGTH"),
    (
        {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]},
        "embeds.0.fields.0.name",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
        "embeds.0.fields.0.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text", "BASE_TYPE_MAX_LENGTH"),
    ({"embeds": [{"author": {"name": "a" * 257}}]}, "embeds.0.author.name", "BASE_TYPE_MAX_LENGTH"),
    (
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        "embeds",
        "MAX_EMBED_SIZE_EXCEEDED",
    ),
    (
        {"components": [row(button(custom_id=f"r{i}")) for i in range(6)]},
        "components",
        "BASE_TYPE_MAX_LENGTH",
    ),
    ({"components": [row(*buttons(6))]}, "components.0.components", "BASE_TYPE_BAD_LENGTH"),
    (
        {"components": [row(button(label="l" * 81))]},
        "components.0.components.0.label",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        {"components": [row(button(custom_id="c" * 101))]},
        "components.0.components.0.custom_id",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        {"components": [row({"type": 2, "style": 5, "label": "Docs"})]},
        "components.0.components.0.url",
        "BASE_TYPE_REQUIRED",
    ),
    (
        {"components": [row(button(style=5, url="https://example.org"))]},
        "components.0.components.0.custom_id",
        "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
    ),
    (
        {"components": [row({"type": 2, "style": 1, "label": "No id"})]},
        "components.0.components.0.custom_id",
        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
    ),
    (
        {"components": [row(button(), button())]},
        "components.0.components.1.custom_id",
        "COMPONENT_CUSTOM_ID_DUPLICATED",
    ),
    (
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        "allowed_mentions",
        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    ),
]

ACCEPTED = [
    {"content": "x" * 2000},
    {"embeds": [EMBED_OK]},
    {"embeds": [{"title": "t"}] * 10},
    {"embeds": [{"fields": [{"name": "n" * 256, "value": "v" * 1024}] + [{"name": "n", "value": "v"}] * 24}]},
    {"embeds": [{"footer": {"text": "f" * 2048}, "author": {"name": "a" * 256}}]},
    {"components": [row(*[button(custom_id=f"{r}.{i}") for i in range(5)]) for r in range(5)]},
    {"components": [row({"type": 2, "style": 5, "label": "Docs", "url": "https://example.org"}, button())]},
    {"content": "hi", "allowed_mentions": {"parse": []}},
]


def _error_at(errors: dict[str, Any], dotted: str) -> list[dict[str, str]]:
    node = errors
    for part in dotted.split("."):
        node = node[part]
    return node["_errors"]


@pytest.mark.parametrize(("body", "where", "code"), REJECTED, ids=[f"{w}:{c}" for _, w, c in REJECTED])
async def test_discord_limits_are_enforced(
    standin: DiscordStandin, http: aiohttp.ClientSession, body: dict[str, Any], where: str, code: str
):
    async with http.post(f"channels/{standin.general.id}/messages", json=body) as resp:
        assert resp.status == 400 and resp.headers["Content-Type"] == "application/json"
        data = await resp.json()
    assert data["code"] == 50035 and data["message"] == "Invalid Form Body"
    assert code in [e["code"] for e in _error_at(data["errors"], where)], data["errors"]
    assert standin.messages.by_id == {}


@pytest.mark.parametrize("body", ACCEPTED, ids=range(len(ACCEPTED)))
async def test_bodies_at_the_limits_are_accepted(
    standin: DiscordStandin, http: aiohttp.ClientSession, body: Any
):
    async with http.post(f"channels/{standin.general.id}/messages", json=body) as resp:
        assert resp.status == 200, await resp.text()
        message = await resp.json()
    assert message["channel_id"] == str(standin.general.id) and message["author"]["id"] == str(standin.bot.id)


@pytest.mark.parametrize("body", [{}, {"content": "   "}, {"content": "", "embeds": []}])
async def test_empty_messages_are_refused(standin: DiscordStandin, http: aiohttp.ClientSession, body: Any):
    async with http.post(f"channels/{standin.general.id}/messages", json=body) as resp:
        assert resp.status == 400
        assert await resp.json() == {"message": "Cannot send an empty message", "code": 50006}


@pytest.mark.filterwarnings("ignore:routes unknown to the stand-in")
async def test_unknown_routes_and_missing_auth_are_visible(
    standin: DiscordStandin, http: aiohttp.ClientSession
):
    async with http.get("guilds/1/audit-logs") as resp:
        assert resp.status == 404 and await resp.json() == {"message": "404: Not Found", "code": 0}
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{standin.http_url}/api/v10/users/@me") as resp,
    ):
        assert resp.status == 401 and await resp.json() == {"message": "401: Unauthorized", "code": 0}
    assert [(r.path, r.route) for r in standin.unknown_routes()] == [("/guilds/1/audit-logs", None)]
    assert standin.requests[-1].authorized is False


async def test_gateway_endpoints_point_at_the_stand_in(standin: DiscordStandin, http: aiohttp.ClientSession):
    async with http.get("gateway/bot") as resp:
        data = await resp.json()
    assert data["url"] == standin.gateway_url and data["shards"] == 1
    assert data["session_start_limit"]["max_concurrency"] == 1


async def test_interaction_callback_rules(
    standin: DiscordStandin, http: aiohttp.ClientSession, client_options: dict[str, Any]
):
    """A bare client receives the interaction; the test answers it by hand to probe the rules."""
    client = discord.Client(intents=discord.Intents.default(), **client_options)
    async with asyncio.timeout(15), standin.run_client(client):
        ix = await standin.send_slash_command("ask", {"question": "q"})
        callback = f"interactions/{ix.id}/{ix.token}/callback"
        hook = f"webhooks/{standin.application_id}/{ix.token}"

        async with http.post(hook, json={"content": "too early"}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10015
        async with http.post(f"interactions/{ix.id}/wrong-token/callback", json={"type": 4}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10062
        async with http.post(callback, json={"type": 8, "data": {"choices": []}}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
        async with http.post(callback, json={"type": 4, "data": {"content": "x" * 2001}}) as resp:
            assert (await resp.json())["errors"]["data"]["content"]["_errors"][0][
                "code"
            ] == "BASE_TYPE_MAX_LENGTH"

        async with http.post(callback, json={"type": 5}) as resp:
            assert resp.status == 204  # no with_response → 204 No Content, like Discord
        async with http.post(callback, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "message": "Interaction has already been acknowledged.",
                "code": 40060,
            }

        async with http.patch(f"{hook}/messages/@original", json={"content": "answer"}) as resp:
            assert resp.status == 200 and (await resp.json())["id"] == str(ix.original_message_id)
        async with http.post(hook, json={"content": "more"}) as resp:
            followup = await resp.json()
        async with http.delete(f"{hook}/messages/{followup['id']}") as resp:
            assert resp.status == 204

    assert [r.error_code for r in ix.rejected] == [
        10015,
        50035,
        50035,
        40060,
    ]  # wrong token ≠ this interaction
    assert [e.kind for e in ix.timeline] == ["callback", "edit", "followup", "delete"]
    assert ix.reply is not None and ix.reply.content == "answer"
    assert standin.message(int(followup["id"])).deleted


@pytest.mark.parametrize(
    ("body", "pings"),
    [
        ({"content": "<@1> <@!2> <@&3> @here"}, True),
        ({"content": "<@1>", "allowed_mentions": {"parse": []}}, False),
        ({"content": "<@1> <@2>", "allowed_mentions": {"users": ["2"]}}, True),
        ({"content": "<@1>", "allowed_mentions": {"users": ["2"]}}, False),
        ({"content": "@everyone", "allowed_mentions": {"parse": ["users", "roles"]}}, False),
        ({"content": "plain", "message_reference": {"message_id": "9"}}, True),
        (
            {"content": "plain", "message_reference": {"message_id": "9"}, "allowed_mentions": {"parse": []}},
            False,
        ),
        ({"content": "", "embeds": [{"description": "<@1> @everyone"}]}, False),
    ],
)
def test_would_ping_applies_discords_rule(body: dict[str, Any], pings: bool):
    assert bool(would_ping(body)) is pings


def test_patching_restores_discord_py():
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    with pytest.raises(RuntimeError), point_discord_py_at("http://127.0.0.1:1", "ws://127.0.0.1:1/"):
        assert Route("GET", "/users/@me").url == "http://127.0.0.1:1/api/v10/users/@me"
        raise RuntimeError("boom")
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
