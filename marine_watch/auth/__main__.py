"""``python -m marine_watch.auth NAME ROLE``: print a new API key and its line for config/roles.toml."""

import sys

from marine_watch.auth.keys import main

raise SystemExit(main(sys.argv[1:]))
