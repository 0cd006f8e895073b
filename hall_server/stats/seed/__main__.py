"""`python -m hall_server.stats.seed`: see the package's docstring."""
from .cli import main

raise SystemExit(main())
