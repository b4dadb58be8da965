"""Foreign Desk's front ends: the command-line interface and the Discord bot."""
