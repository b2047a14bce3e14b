"""`python -m engine` runs the `connector` CLI."""

from .cli import main

raise SystemExit(main())
