"""``python -m foreign_desk`` is the same as the ``foreign-desk`` command."""

from foreign_desk.bot.entry import main

main()
