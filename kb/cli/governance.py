"""Governance: erasing an entry (kb forget) and the audit log (kb audit)."""

from __future__ import annotations

import re

import click

from kb.app.forget import describe
from kb.app.forget import forget as forget_entry
from kb.cli.options import handle_errors, json_option, print_json, root_option
from kb.core import audit as audit_log
from kb.core import config as config_module


@click.command()
@click.argument("entry_id")
@root_option
@click.option("--yes", is_flag=True, help="Erase. Without it, only list what would be removed.")
@json_option
@handle_errors
def forget(entry_id, root, yes, as_json):
    """Erase an entry and every trace of it: the file, its rows, words and vectors in the index,
    the FAISS file and the embedding cache, verdicts and related: links naming it, its id in
    actions and learning questions, and generated files under .kb/. The audit log records the
    id and the files, never the text.

    \b
      kb forget mob-07-namn-i-texten          lists what would be removed
      kb forget mob-07-namn-i-texten --yes    erases it
    """
    config = config_module.load(root)
    erasure = forget_entry(config, entry_id, yes=yes)
    if as_json:
        print_json(erasure.to_dict())
        return
    for line in describe(erasure):
        click.echo(line)
    for line in erasure.beyond:
        click.echo(f"not reached: {line}", err=True)
    if not yes:
        click.echo(f"Nothing removed yet. Run `kb forget {entry_id} --yes` to erase it.")
    else:
        click.echo(f"Erased {entry_id}; the audit log records the erasure (id and files, not the text).")


@click.command()
@root_option
@click.option("--since", help="Only events on or after this date (YYYY[-MM[-DD]], UTC).")
@click.option("--who", help="Only events by this user.")
@click.option("--action", "action_name", metavar="ACTION",
              help="Only this kind of event, e.g. entry.create, import, verdict, action, entry.forget "
              "(a prefix before the dot matches all of its kind).")
@json_option
@handle_errors
def audit(root, since, who, action_name, as_json):
    """List the audit log: who changed what, when, in which file (oldest first)."""
    config = config_module.load(root)
    events = audit_log.select(audit_log.read(config.state_dir), since=since, who=who, action=action_name)
    if as_json:
        print_json(events)
        return
    if not events:
        click.echo("No events.", err=True)
        return
    for event in events:  # one line per event, whatever a value holds
        rest = {k: v for k, v in event.items() if k not in ("at", "who", "action", "path")}
        details = " ".join(f"{k}={_short(v)}" for k, v in rest.items())
        line = (f"{event.get('at', '')}  {event.get('who', '')}  {event.get('action', '')}"
                + (f"  {event['path']}" if event.get("path") else "") + (f"  {details}" if details else ""))
        click.echo(_visible(line))


def _short(value) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value[:5]) + (f",…(+{len(value) - 5})" if len(value) > 5 else "")
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return str(value)


def _visible(text: str) -> str:
    """Control characters (a newline in a name, say) written as escapes, so no value can
    start a line of its own."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)
