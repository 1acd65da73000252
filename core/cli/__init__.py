"""The headless command line. Each subcommand module exposes ``add_parsers(subparsers)``;
every parser sets ``func(args) -> int``. Modules import heavy libraries inside ``func`` only,
so ``clirlens --help`` returns without importing torch."""
