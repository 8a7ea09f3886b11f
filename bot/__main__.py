"""`python -m bot` runs the `vecinos` command line."""

from bot.cli import main

raise SystemExit(main())
