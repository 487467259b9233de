"""Closing the learning loop: actions on lessons (kb action, kb actions) and the learning
agenda (kb agenda)."""

from __future__ import annotations

import datetime as dt
import sys

import click

from analysis.loop import entries_from_index, load_loop
from analysis.recurrence import how_text, validated_on
from kb.app.actions import create_action, set_status
from kb.app.agenda import QuestionExists, add_question, close_question, edit_question, question_from_obstacle
from kb.cli.options import handle_errors, json_option, model_option, open_kb, print_json, root_option
from kb.core import config as config_module
from kb.core.actions import OUTCOMES, STATUSES
from kb.core.agenda import QUESTION_STATUSES
from kb.core.texts import text, texts
from kb.core.visibility import VISIBILITIES


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
@click.option("--visibility", type=click.Choice(VISIBILITIES),
              help="Who may see it: internal, partner or public. Default: kb.toml's [sharing] visibility.")
@json_option
@handle_errors
def action_new(root, title, lessons, owner, due, roadmap, note, visibility, as_json):
    """Propose an action on one or more lessons; prints its id."""
    config = config_module.load(root)
    created = create_action(config, title=title, lessons=list(lessons), owner=owner, due=_date(due, "--due"),
                            roadmap=list(roadmap), note=note, visibility=visibility)
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
        shown = text("action_status_" + changed.status, config.language).lower()
        click.echo(f"{changed.id}: {shown} ({changed.history[-1].date}).")


@click.command()
@root_option
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only this status (repeatable).")
@click.option("--overdue", is_flag=True, help="Only open actions past their due date.")
@click.option("--area", "areas", multiple=True, help="Only actions on lessons (or roadmap actions) of this area.")
@click.option("--owner", help="Only this owner.")
@json_option
@handle_errors
def actions(root, statuses, overdue, areas, owner, as_json):
    """The actions taken on lessons: owner, due date, status, the lessons they answer.

    A validated action whose obstacle came back (a later obstacle entry joined its obstacle
    group or lies close to its lessons) is flagged, with those entries ("recurred" in --json).
    """
    kb, loop = _loop(root)
    unknown = [a for a in areas if a not in kb.config.areas]
    if unknown:
        raise click.BadParameter(f"unknown area {unknown[0]!r}; use one of: {', '.join(sorted(kb.config.areas))}",
                                 param_hint="--area")
    chosen = loop.select(statuses=statuses, overdue=overdue, areas=areas, owner=owner)
    for problem in loop.problems:
        click.echo(problem.format(kb.config.root), err=True)
    if kb.indexed:
        loop.watch(kb, chosen)  # did the obstacles of the validated actions come back?
    elif any(validated_on(a) for a in chosen):
        click.echo("No index yet: run `kb index` to see whether the obstacles of validated actions came back.",
                   err=True)
    if as_json:
        print_json([loop.action_dict(a) for a in chosen])
        return
    t = texts(kb.config.language)  # the words around the content speak its language
    if not chosen:
        click.echo(t["cli_no_actions"], err=True)
    names = kb.config.area_names()
    for a in chosen:
        flag = f"  {t['action_overdue'].upper()}" if a.overdue(loop.today) else ""
        recurred = loop.recurred_of(a)
        flag += f"  {t['recurrence_flag'].upper()}" if recurred else ""
        click.echo(click.style(a.title, bold=True) + flag)
        click.echo(f"    {a.id} · {t['action_status_' + a.status]} · {t['action_due'].lower()} {a.due.isoformat()} · "
                   f"{a.owner}" + (f" · {', '.join(loop.areas_of(a))}" if loop.areas_of(a) else ""))
        click.echo(f"    {t['action_lessons'].lower()}: {', '.join(a.lessons)}"
                   + (f"; {t['field_roadmap'].lower()}: {', '.join(a.roadmap)}" if a.roadmap else ""))
        for r in recurred:
            click.echo(f"    {t['recurrence_cli']}: {r.entry} ({names.get(r.area, r.area)}, {r.date}, "
                       f"{how_text(r, kb.config.language, label=False)})")


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
    t = texts(kb.config.language)  # the words around the content speak its language
    if not questions:
        click.echo(t["cli_no_questions"], err=True)
    for q in questions:
        data = loop.question_dict(q)
        flag = f"  {t['question_own_session'].upper()}" if data["needs_own_session"] else ""
        click.echo(click.style(q.question, bold=True) + flag)
        state = (t["cli_question_open_since"].format(date=data["opened"], sessions=data["sessions_open"])
                 if q.status == "open" else f"{t['question_status_' + q.status]} {data['closed']}")
        click.echo(f"    {q.id} · {q.owner} · {state}")
        if q.entries:
            click.echo(f"    {t['unit_entries']}: {', '.join(q.entries)}")
        if q.answer:
            click.echo(f"    {t['agenda_form_answer'].lower()}: {q.answer}")


@agenda.command("add")
@click.argument("question", required=False)
@root_option
@model_option
@click.option("--owner", default="", help="Who keeps the question (a person, a team, an area). Needed for a "
              "new question.")
@click.option("--entry", "entries", multiple=True, metavar="ENTRY_ID", help="An entry it comes from (repeatable).")
@click.option("--from-obstacle", metavar="GROUP_ID",
              help="Make the question from this recurring obstacle group (hinder-N as `kb obstacles` lists it, or "
                   "an entry in it): all its entries, its id cited.")
@click.option("--into", metavar="QUESTION_ID",
              help="With --from-obstacle: add the obstacle group's entries to this open question instead.")
@click.option("--new", "separate", is_flag=True,
              help="With --from-obstacle: make a new question even though an open one already asks about the group.")
@click.option("--lang", type=click.Choice(["sv", "en"]), help="Language of a suggested question. Default: kb.toml's.")
@click.option("--visibility", type=click.Choice(VISIBILITIES),
              help="Who may see it: internal, partner or public. Default: kb.toml's [sharing] visibility.")
@json_option
@handle_errors
def agenda_add(question, root, model, owner, entries, from_obstacle, into, separate, lang, visibility, as_json):
    """Put a learning QUESTION on the agenda (or make one from a recurring obstacle).

    When an open question already cites an entry of the obstacle's group, no second question
    is made: in a terminal you are asked whether to add the group to that question; without
    one, nothing is added and the open question is named (--into QUESTION_ID adds the group
    to it, --new makes a separate question all the same).
    """
    if (into or separate) and not from_obstacle:
        raise click.UsageError("--into and --new go with --from-obstacle")
    if from_obstacle:
        kb = open_kb(root, model)
        language = lang or kb.config.language
        try:
            added = question_from_obstacle(kb, from_obstacle, owner=owner, question=question, into=into,
                                           separate=separate, lang=language, visibility=visibility)
        except QuestionExists as exc:
            existing = exc.questions[0]
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise click.ClickException(exc.message(language) + "\n"
                                           + text("cli_agenda_exists_hint", language, id=existing.id)) from None
            click.echo(exc.message(language), err=True)
            if not click.confirm(text("cli_agenda_add_into", language, id=existing.id), default=True, err=True):
                raise click.ClickException(text("cli_agenda_nothing_added", language)) from None
            added = question_from_obstacle(kb, from_obstacle, into=existing.id, lang=language)
    elif not question:
        raise click.UsageError("give the QUESTION, or --from-obstacle GROUP_ID")
    elif not owner.strip():
        raise click.UsageError("--owner NAME: who keeps the question")
    else:
        added = add_question(config_module.load(root), question, owner=owner, entries=entries,
                             visibility=visibility)
    if as_json:
        print_json(added.to_dict())
    else:
        click.echo(added.id)
        click.echo(f"{added.rel_path}: {added.question}", err=True)


@agenda.command("edit")
@click.argument("question_id")
@root_option
@click.option("--question", help="The question's new wording.")
@click.option("--owner", help="Its new owner.")
@json_option
@handle_errors
def agenda_edit(question_id, root, question, owner, as_json):
    """Reword the open learning question QUESTION_ID (or give it another owner); its id stays."""
    edited = edit_question(config_module.load(root), question_id, question=question, owner=owner)
    if as_json:
        print_json(edited.to_dict())
    else:
        click.echo(f"{edited.id}: {edited.question} ({edited.owner})")


@agenda.command("close")
@click.argument("question_id")
@root_option
@click.option("--answer", default="", help="What was learned: the answer to the question.")
@click.option("--drop", is_flag=True, help="Take the question off the agenda without an answer.")
@handle_errors
def agenda_close(question_id, root, answer, drop):
    """Answer (or drop) the learning question QUESTION_ID."""
    config = config_module.load(root)
    closed = close_question(config, question_id, answer=answer, drop=drop)
    shown = text("question_status_" + closed.status, config.language).lower()
    click.echo(f"{closed.id}: {shown} ({closed.closed.isoformat() if closed.closed else ''}).")

