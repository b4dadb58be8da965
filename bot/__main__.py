"""``python -m bot`` is the same as the ``foreign-desk`` command."""

from bot.cli import main

main()
