"""The ``kb`` command: a thin layer over the library. Each command parses its options,
calls one library function and formats the result (text for people, ``--json`` for programs).

The commands live in this package, one module per kind of work. This module makes the root
group and names each command's module; a module is imported only when its command runs
(click's lazy subcommands), so ``kb search`` never loads the analyses, the reports or the
web server, and starts in a fraction of a second.
"""

from __future__ import annotations

import importlib

import click

from kb import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# command name -> "module:function" in this package, in the order `kb --help` lists them
COMMANDS = {
    "validate": "entries:validate",
    "new": "entries:new",
    "show": "entries:show",
    "import": "entries:import_",
    "hash-password": "entries:hash_password_",
    "user": "users:user",
    "index": "indexing:index",
    "search": "searching:search",
    "similar": "similar:similar",
    "eval": "evaluation:eval_",
    "serve": "web:serve",
    "synergies": "crossarea:synergies",
    "obstacles": "crossarea:obstacles",
    "conflicts": "crossarea:conflicts",
    "duplicates": "crossarea:duplicates",
    "link": "crossarea:link",
    "action": "loop:action",
    "actions": "loop:actions",
    "agenda": "loop:agenda",
    "session": "sessions:session",
    "roadmap": "roadmaps:roadmap",
    "policy": "roadmaps:policy",
    "actors": "roadmaps:actors",
    "brief": "facilitation:brief",
    "report": "facilitation:report",
    "pictures": "facilitation:pictures",
    "digest": "facilitation:digest",
    "audit": "governance:audit",
    "forget": "governance:forget",
    "export": "operations:export",
    "backup": "operations:backup",
    "restore": "operations:restore",
    "publish": "sharing:publish",
    "follow": "sharing:follow",
    "unfollow": "sharing:unfollow",
    "sync": "sharing:sync_",
    "cities": "sharing:cities",
    "doctor": "doctor:doctor",
}


class LazyGroup(click.Group):
    """A group whose commands are imported from their modules when first asked for."""

    def __init__(self, *args, lazy_commands: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self.lazy_commands]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module_name}"), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"{target} is not the command {cmd_name!r}")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Command list in the order of COMMANDS (click would sort it)."""
        commands = [(name, self.get_command(ctx, name)) for name in self.list_commands(ctx)]
        commands = [(name, c) for name, c in commands if c is not None and not c.hidden]
        limit = formatter.width - 6 - max((len(name) for name, _ in commands), default=0)
        rows = [(name, c.get_short_help_str(limit)) for name, c in commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kb")
def cli():
    """A reflexive learning knowledge base: log lessons as Markdown entries, index them,
    and find them by meaning in Swedish or English.

    \b
    Typical use:
      kb validate                 check every entry
      kb index                    embed new and changed entries
      kb search "laddplatser upphandling"
      kb similar ENTRY_ID --other-areas
      kb synergies                lessons that carry across areas
      kb serve                    the web pages
    """


def all_commands() -> dict[str, click.Command]:
    """Every command by name (imports every command module: for help and docs checks)."""
    with click.Context(cli) as ctx:
        return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}


def main():  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
