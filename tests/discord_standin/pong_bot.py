"""A minimal bot for `test_launch.py`: answers every interaction with its shard and process id.

python -m tests.discord_standin.launch HTTP GATEWAY -m tests.discord_standin.pong_bot TOKEN SHARD COUNT
"""

from __future__ import annotations

import os
import sys

import discord


class PongBot(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        guild = interaction.guild
        shard = guild.shard_id if guild is not None else 0
        await interaction.response.send_message(f"pong from shard {shard} in process {os.getpid()}")


if __name__ == "__main__":
    token, shard, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    bot = PongBot(
        intents=discord.Intents.default(), shard_ids=[shard], shard_count=count, guild_ready_timeout=0.05
    )
    bot.run(token, log_handler=None)
