"""``python -m marine_watch.cli``: the same as the ``marine-watch`` command."""

from marine_watch.cli.main import main

raise SystemExit(main())
