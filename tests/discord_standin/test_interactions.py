"""Slash commands, autocomplete, buttons and modals through a real CommandTree and ui.View."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from .errors import StandinUsageError
from .server import DiscordStandin, StandinConfig

TOPICS = ["Ukraine", "United Nations", "Uruguay", "Taiwan"]


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.clicked_message_ids: list[int] = []
        self.add_item(discord.ui.Button(label="Source", url="https://example.org/source"))

    @discord.ui.button(label="Yes", style=discord.ButtonStyle.success, custom_id="vote:yes")
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        self.clicked_message_ids.append(interaction.message.id if interaction.message else 0)
        await interaction.response.edit_message(
            content=f"{interaction.user.display_name} voted yes", view=None
        )


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", custom_id="fb:text"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks for: {self.text.value}", ephemeral=True)


class ToyBot(commands.Bot):
    """A throwaway bot exercising each interaction shape; it is not the product bot."""

    def __init__(self, guild_id: int, client_options: dict[str, Any], *, sync_to_guild: bool = True) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), **client_options)
        self.guild_id = guild_id
        self.sync_to_guild = sync_to_guild
        self.seen: dict[str, Any] = {}
        self.errors: list[BaseException] = []
        self.views: list[VoteView] = []
        self._add_commands()

    async def setup_hook(self) -> None:
        if not self.sync_to_guild:
            await self.tree.sync()
            return
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command()
        @app_commands.describe(question="What to ask")
        async def ask(interaction: discord.Interaction, question: app_commands.Range[str, 1, 300]) -> None:
            """Ask the desk a question."""
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            embed = discord.Embed(title="Answer", description=f"About {question}")
            await interaction.edit_original_response(content=None, embed=embed)

        @tree.command()
        async def brief(interaction: discord.Interaction, topic: str) -> None:
            """Two followups after a defer."""
            await interaction.response.defer(thinking=True, ephemeral=True)
            await interaction.followup.send(f"Brief on {topic}, part 1")
            await interaction.followup.send(f"Brief on {topic}, part 2", ephemeral=True)

        @brief.autocomplete("topic")
        async def brief_topic(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            self.seen["autocomplete_current"] = current
            return [
                app_commands.Choice(name=t, value=t) for t in TOPICS if t.lower().startswith(current.lower())
            ]

        @tree.command()
        async def vote(interaction: discord.Interaction) -> None:
            """A message with buttons."""
            view = VoteView()
            self.views.append(view)
            await interaction.response.send_message("Cast your vote", view=view)

        @tree.command()
        async def secret(interaction: discord.Interaction) -> None:
            """An ephemeral reply."""
            self.seen["secret_in_guild"] = interaction.guild is not None
            self.seen["secret_user_type"] = type(interaction.user).__name__
            await interaction.response.send_message("only you can see this", ephemeral=True)

        @tree.command()
        async def feedback(interaction: discord.Interaction) -> None:
            """Opens a modal."""
            await interaction.response.send_modal(FeedbackModal())

        @tree.command()
        async def late(interaction: discord.Interaction) -> None:
            """Answers after the acknowledgement window."""
            await asyncio.sleep(0.5)
            try:
                await interaction.response.send_message("too late")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        admin = app_commands.Group(
            name="admin",
            description="Admin tools",
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )
        index = app_commands.Group(name="index", description="Index tools", parent=admin)

        @admin.command()
        async def reindex(interaction: discord.Interaction, full: bool = False) -> None:
            """Rebuild the index."""
            self.seen["reindex"] = (
                full,
                interaction.permissions.manage_guild,
                interaction.app_permissions.value,
            )
            await interaction.response.send_message(f"reindex full={full}", ephemeral=True)

        @index.command()
        async def rebuild(interaction: discord.Interaction, shards: int) -> None:
            """Rebuild some shards."""
            await interaction.response.send_message(f"rebuilding {shards}", ephemeral=True)

        tree.add_command(admin)


@pytest.fixture
def bot(standin: DiscordStandin, client_options: dict[str, Any]) -> ToyBot:
    return ToyBot(standin.guild.id, client_options)


async def test_commands_are_registered_on_the_guild(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        put = await standin.wait_for_request(lambda r: r.method == "PUT")
        assert put.route == "/applications/{app_id}/guilds/{guild_id}/commands"
        names = {c["name"] for c in standin.commands.bucket(standin.guild.id)}
        assert names == {"ask", "brief", "vote", "secret", "feedback", "late", "admin"}
        ix = await standin.send_slash_command("secret")
        registered = standin.commands.find("secret", standin.guild.id)
        assert registered is not None
        assert ix.payload["data"]["id"] == registered["id"]
        assert ix.payload["data"]["guild_id"] == str(standin.guild.id)
        await ix.wait_for_reply()


async def test_deferred_response_then_edit_of_the_original(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("ask", {"question": "Who chairs the UNSC?"})
        assert await ix.wait_for_callback() == 5
        assert ix.original is not None  # the "is thinking…" placeholder exists at once
        reply = await ix.wait_for_reply()

    assert reply.id == ix.original_message_id and not reply.loading
    assert reply.content == "" and reply.embeds[0]["description"] == "About Who chairs the UNSC?"
    assert "Answer" in reply.text
    assert [e.kind for e in ix.timeline] == ["callback", "edit"]
    assert reply.revisions[0] == {} and "embeds" in reply.revisions[1]


async def test_followups_after_a_defer(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("brief", {"topic": "Taiwan"})
        await ix.wait_for_reply(lambda m: "part 2" in m.content)

    # Discord: the first followup after type 5 edits the loading message, keeping its ephemerality.
    first, second = ix.messages
    assert first.id == ix.original_message_id and first.content == "Brief on Taiwan, part 1"
    assert first.ephemeral and not first.loading
    assert ix.followups == [second] and second.content == "Brief on Taiwan, part 2" and second.ephemeral
    assert [e.kind for e in ix.timeline] == ["callback", "followup", "followup"]
    assert ix.reply is second


async def test_button_click_is_handled_by_the_view(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("vote")
        message = await ix.wait_for_reply()
        link = message.find_component(label="Source")
        assert link is not None and link["url"] == "https://example.org/source"
        with pytest.raises(StandinUsageError):
            await standin.click_button(message, label="Source")

        click = await standin.click_button(message, custom_id="vote:yes", user=standin.admin)
        assert await click.wait_for_callback() == 7
        await click.wait_for_reply()

    assert bot.views[0].clicked_message_ids == [message.id]
    assert standin.message(message.id).content == "Ada Admin voted yes"
    assert standin.message(message.id).components == []
    assert click.payload["message"]["id"] == str(message.id)
    assert [r.content for r in click.replies] == ["Ada Admin voted yes"]


async def test_ephemeral_reply_carries_the_flag(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("secret")
        reply = await ix.wait_for_reply()
        listed = await standin.wait_for_request(lambda r: r.route and r.route.endswith("/callback"))

    assert reply.ephemeral and listed.json["data"]["flags"] & 64
    assert bot.seen["secret_in_guild"] is True


async def test_autocomplete_response(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_autocomplete("brief", {"topic": "u"}, focused="topic")
        choices = await ix.wait_for_choices()

    assert [c["value"] for c in choices] == ["Ukraine", "United Nations", "Uruguay"]
    assert bot.seen["autocomplete_current"] == "u"
    assert ix.payload["type"] == 4 and ix.payload["data"]["options"][0]["focused"] is True


async def test_subcommands_and_groups_with_member_permissions(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        ix = await standin.send_slash_command("admin reindex", {"full": True}, user=standin.admin)
        reply = await ix.wait_for_reply()
        assert reply.content == "reindex full=True" and reply.ephemeral
        full, member_can_manage, app_perms = bot.seen["reindex"]
        assert full is True and member_can_manage is True
        assert app_perms == int(ix.payload["app_permissions"]) and app_perms & (1 << 11)

        nested = await standin.send_slash_command("admin index rebuild", {"shards": 3}, user=standin.admin)
        assert (await nested.wait_for_reply()).content == "rebuilding 3"
        assert nested.payload["data"]["options"][0] == {
            "name": "index",
            "type": 2,
            "options": [
                {"name": "rebuild", "type": 1, "options": [{"name": "shards", "type": 4, "value": 3}]}
            ],
        }

        # Discord hides a default_permissions command from members without them.
        with pytest.raises(StandinUsageError, match="default_member_permissions"):
            await standin.send_slash_command("admin reindex", {"full": True}, user=standin.user)
        # Discord's client refuses values outside the registered schema.
        with pytest.raises(StandinUsageError):
            await standin.send_slash_command("admin index rebuild", {"shards": "three"}, user=standin.admin)
        forced = await standin.send_slash_command("admin reindex", user=standin.user, force=True)
        await forced.wait_for_reply()
        assert bot.seen["reindex"][:2] == (False, False)


async def test_modal_is_opened_and_submitted(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        opened = await standin.send_slash_command("feedback")
        assert await opened.wait_for_callback() == 9
        assert opened.modal is not None and opened.modal["title"] == "Feedback"
        submitted = await standin.submit_modal(opened, {"fb:text": "more maps please"})
        reply = await submitted.wait_for_reply()

    assert reply.content == "Thanks for: more maps please" and reply.ephemeral


async def test_guild_commands_are_not_offered_in_dms(standin: DiscordStandin, bot: ToyBot):
    async with asyncio.timeout(15), standin.run_client(bot):
        with pytest.raises(StandinUsageError, match="not offered in DMs"):
            await standin.send_slash_command("secret", dm=True)


async def test_interaction_in_a_dm(standin: DiscordStandin, client_options: dict[str, Any]):
    bot = ToyBot(standin.guild.id, client_options, sync_to_guild=False)
    async with asyncio.timeout(15), standin.run_client(bot):
        # /admin is guild_only (dm_permission false), so Discord's client hides it in DMs.
        with pytest.raises(StandinUsageError, match="not available in DMs"):
            await standin.send_slash_command("admin reindex", dm=True, user=standin.admin)
        ix = await standin.send_slash_command("secret", dm=True)
        await ix.wait_for_reply()
        assert "guild_id" not in ix.payload["data"]

    assert "member" not in ix.payload and ix.payload["user"]["id"] == str(standin.user.id)
    assert bot.seen["secret_in_guild"] is False and bot.seen["secret_user_type"] == "User"


async def test_callback_after_the_deadline_gets_unknown_interaction(client_options: dict[str, Any]):
    async with DiscordStandin(StandinConfig(interaction_ack_timeout=0.3)) as standin, asyncio.timeout(15):
        with standin.patch_discord_py():
            bot = ToyBot(standin.guild.id, client_options)
            async with standin.run_client(bot):
                ix = await standin.send_slash_command("late")
                await standin.wait_until(lambda: bot.errors, what="the bot's HTTPException")

    (error,) = bot.errors
    assert isinstance(error, discord.NotFound) and error.code == 10062
    assert ix.callback_type is None and ix.rejected[0].error_code == 10062
