"""Closing the learning loop: actions on lessons (kb action, kb actions) and the learning
agenda (kb agenda)."""

from __future__ import annotations

import datetime as dt

import click

from analysis.loop import entries_from_index, load_loop
from kb.app.actions import create_action, set_status
from kb.app.agenda import add_question, close_question, question_from_obstacle
from kb.cli.options import handle_errors, json_option, model_option, open_kb, print_json, root_option
from kb.core import config as config_module
from kb.core.actions import OUTCOMES, STATUSES
from kb.core.agenda import QUESTION_STATUSES


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD", param_hint=option) from None


def _loop(root):
    """The loop with entry facts from the index when there is one (fast), else the files."""
    kb = open_kb(root)
    entries = entries_from_index(kb) if kb.indexed else None
    return kb, load_loop(kb.config, entries=entries)


# --- actions ------------------------------------------------------------------------------------
@click.group()
def action():
    """Propose an action on lessons, and move it through its statuses.

    \b
    Statuses: proposed -> agreed -> in-progress -> done -> validated (or dropped, with a reason).
    A lesson counts as learned when an action on it was validated, with evidence.
    \b
      kb action new --title "En ägare för laddfrågan" --lesson cen-03-laddning-vem-ager-fragan \\
          --owner "Fastighets- och gatukontoret" --due 2026-03-31 --roadmap MOB-1
      kb action set en-agare-for-laddfragan --status agreed --note "Beslut i styrgruppen"
      kb action set en-agare-for-laddfragan --status validated --note "Tre ärenden lösta på en vecka"
    """


@action.command("new")
@root_option
@click.option("--title", required=True, help="What will be done, in a sentence.")
@click.option("--lesson", "lessons", multiple=True, required=True, metavar="ENTRY_ID",
              help="A lesson (entry id) the action answers (repeatable).")
@click.option("--owner", required=True, help="Who acts: an actor (a department, an organisation).")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@click.option("--roadmap", "roadmap", multiple=True, metavar="ACTION_ID",
              help="A roadmap action it serves, e.g. MOB-1 (repeatable).")
@click.option("--note", default="", help="Why, or how: goes into the action's notes.")
@json_option
@handle_errors
def action_new(root, title, lessons, owner, due, roadmap, note, as_json):
    """Propose an action on one or more lessons; prints its id."""
    config = config_module.load(root)
    created = create_action(config, title=title, lessons=list(lessons), owner=owner, due=_date(due, "--due"),
                            roadmap=list(roadmap), note=note)
    if as_json:
        print_json(created.to_dict())
    else:
        click.echo(created.id)
        click.echo(f"Created {created.rel_path} (proposed, due {created.due.isoformat()}).", err=True)


@action.command("set")
@click.argument("action_id")
@root_option
@click.option("--status", required=True, type=click.Choice(STATUSES), help="The new status.")
@click.option("--note", default="", help="What happened; the reason (dropped) or the evidence (validated).")
@click.option("--outcome", "outcome", multiple=True, type=click.Choice(OUTCOMES),
              help="What acting changed: a roadmap, a routine or a policy (repeatable).")
@json_option
@handle_errors
def action_set(action_id, root, status, note, outcome, as_json):
    """Move ACTION_ID to a new status (the date goes into its history)."""
    config = config_module.load(root)
    changed = set_status(config, action_id, status, note=note, outcome=outcome)
    if as_json:
        print_json(changed.to_dict())
    else:
        click.echo(f"{changed.id}: {changed.status} ({changed.history[-1].date}).")


@click.command()
@root_option
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable).")
@click.option("--overdue", is_flag=True, help="Only open actions past their due date.")
@click.option("--area", "areas", multiple=True, help="Only actions on lessons (or roadmap actions) of this area.")
@click.option("--owner", help="Only this owner.")
@json_option
@handle_errors
def actions(root, statuses, overdue, areas, owner, as_json):
    """The actions taken on lessons: owner, due date, status, the lessons they answer."""
    kb, loop = _loop(root)
    unknown = [a for a in areas if a not in kb.config.areas]
    if unknown:
        raise click.BadParameter(f"unknown area {unknown[0]!r}; use one of: {', '.join(sorted(kb.config.areas))}",
                                 param_hint="--area")
    chosen = loop.select(statuses=statuses, overdue=overdue, areas=areas, owner=owner)
    for problem in loop.problems:
        click.echo(problem.format(kb.config.root), err=True)
    if as_json:
        print_json([loop.action_dict(a) for a in chosen])
        return
    if not chosen:
        click.echo("No actions.", err=True)
    for a in chosen:
        flag = "  OVERDUE" if a.overdue(loop.today) else ""
        click.echo(click.style(a.title, bold=True) + flag)
        click.echo(f"    {a.id} · {a.status} · due {a.due.isoformat()} · {a.owner}"
                   + (f" · {', '.join(loop.areas_of(a))}" if loop.areas_of(a) else ""))
        click.echo(f"    lessons: {', '.join(a.lessons)}" + (f"; roadmap: {', '.join(a.roadmap)}" if a.roadmap else ""))


# --- the learning agenda ------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@root_option
@click.option("--status", type=click.Choice([*QUESTION_STATUSES, "all"]), default="open", show_default=True)
@json_option
@click.pass_context
@handle_errors
def agenda(ctx, root, status, as_json):
    """The learning agenda: obstacles rewritten as learning questions with an owner,
    revisited at every learning session (a question open for three sessions or more is
    flagged for a session of its own).

    \b
      kb agenda                                   the open questions
      kb agenda add "Hur får vi effektbesked tidigt?" --owner Energi --entry mob-04-...
      kb agenda add --from-obstacle hinder-2 --owner Energi
      kb agenda close lq-hur-far-vi-effektbesked-tidigt --answer "Ett samråd med E.ON per kvartal"
    """
    if ctx.invoked_subcommand is not None:
        return
    kb, loop = _loop(root)
    questions = sorted((q for q in loop.agenda.questions if status == "all" or q.status == status),
                       key=lambda q: (q.opened, q.id))
    for problem in loop.agenda.problems:
        click.echo(problem.format(kb.config.root), err=True)
    if as_json:
        print_json([loop.question_dict(q) for q in questions])
        return
    if not questions:
        click.echo("No learning questions.", err=True)
    for q in questions:
        data = loop.question_dict(q)
        flag = (f"  OPEN {data['sessions_open']} SESSIONS: give it a session of its own"
                if data["needs_own_session"] else "")
        click.echo(click.style(q.question, bold=True) + flag)
        sessions = data["sessions_open"]
        click.echo(f"    {q.id} · {q.status} · {q.owner} · opened {q.opened.isoformat()}, "
                   f"{sessions} learning session{'' if sessions == 1 else 's'} since")
        if q.entries:
            click.echo(f"    entries: {', '.join(q.entries)}")
        if q.answer:
            click.echo(f"    answer: {q.answer}")


@agenda.command("add")
@click.argument("question", required=False)
@root_option
@model_option
@click.option("--owner", required=True, help="Who keeps the question (a person, a team, an area).")
@click.option("--entry", "entries", multiple=True, metavar="ENTRY_ID", help="An entry it comes from (repeatable).")
@click.option("--from-obstacle", metavar="GROUP_ID",
              help="Make the question from this recurring obstacle group (hinder-N as `kb obstacles` lists it, or "
                   "an entry in it): all its entries, its id cited.")
@click.option("--lang", type=click.Choice(["sv", "en"]), help="Language of a suggested question. Default: kb.toml's.")
@json_option
@handle_errors
def agenda_add(question, root, model, owner, entries, from_obstacle, lang, as_json):
    """Put a learning QUESTION on the agenda (or make one from a recurring obstacle)."""
    if from_obstacle:
        kb = open_kb(root, model)
        added = question_from_obstacle(kb, from_obstacle, owner=owner, question=question, lang=lang)
    elif not question:
        raise click.UsageError("give the QUESTION, or --from-obstacle GROUP_ID")
    else:
        added = add_question(config_module.load(root), question, owner=owner, entries=entries)
    if as_json:
        print_json(added.to_dict())
    else:
        click.echo(added.id)
        click.echo(f"Added {added.rel_path}: {added.question}", err=True)


@agenda.command("close")
@click.argument("question_id")
@root_option
@click.option("--answer", default="", help="What was learned: the answer to the question.")
@click.option("--drop", is_flag=True, help="Take the question off the agenda without an answer.")
@handle_errors
def agenda_close(question_id, root, answer, drop):
    """Answer (or drop) the learning question QUESTION_ID."""
    closed = close_question(config_module.load(root), question_id, answer=answer, drop=drop)
    click.echo(f"{closed.id}: {closed.status} ({closed.closed.isoformat() if closed.closed else ''}).")

