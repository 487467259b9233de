"""Actions on lessons: the status rules, the refusals, the files they leave, and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from indexer.actions import load_actions
from kb.app.actions import ActionInvalid, create_action, set_status
from kb.cli import cli
from kb.core import audit
from kb.core.actions import STATUSES, TRANSITIONS, transition_problem
from kb.core.config import load
from kb.core.errors import EntryNotFound

DAY = dt.date(2026, 3, 1)


def _new(config, **changes):
    options = dict(title="Boka kapacitetsbesked före projektering", lessons=["vaermepump-holma"],
                   owner="MKB", due=dt.date(2026, 4, 30), today=DAY)
    options.update(changes)
    return create_action(config, **options)


def test_a_new_action_is_a_valid_proposed_file_with_a_dated_history(kb_root):
    config = load(kb_root)
    action = _new(config, roadmap=[], note="Föreslaget på lärtillfället")
    assert action.id == "boka-kapacitetsbesked-fore-projektering"
    assert (action.status, action.owner, action.lessons) == ("proposed", "MKB", ["vaermepump-holma"])
    assert [(c.date, c.status) for c in action.history] == [("2026-03-01", "proposed")]
    text = action.path.read_text(encoding="utf-8")
    assert "due: 2026-04-30\n" in text and "## Anteckningar\nFöreslaget på lärtillfället" in text
    assert load_actions(config).problems == []
    assert audit.read(config.state_dir)[-1]["action"] == "action.create"


def test_unknown_lessons_and_roadmap_actions_are_refused_by_name(kb_root):
    config = load(kb_root)
    with pytest.raises(ActionInvalid, match="Unknown lesson 'finns-inte'") as refused:
        _new(config, lessons=["vaermepump-holma", "finns-inte"])
    assert refused.value.message("sv") == "Okänd lärdom 'finns-inte': ingen post har det id:t."
    (kb_root / "roadmaps").mkdir()
    (kb_root / "roadmaps/bygg.md").write_text(
        "---\narea: bygg\ntitle: Färdplan\nactions:\n  - id: BYG-1\n    title: Värmepumpar\n    status: ongoing\n---\n",
        encoding="utf-8")
    with pytest.raises(ActionInvalid, match="Unknown roadmap action 'BYG-9'"):
        _new(config, roadmap=["BYG-9"])
    assert _new(config, roadmap=["BYG-1"]).roadmap == ["BYG-1"]
    assert not [p for p in (kb_root / "actions").glob("*.md") if "finns" in p.read_text(encoding="utf-8")]


def test_every_status_move_follows_the_rules(kb_root):
    config = load(kb_root)
    for current in STATUSES:
        for new in STATUSES:
            problem = transition_problem(current, new)
            assert (problem is None) == (new in TRANSITIONS[current]), (current, new)
    action = _new(config)
    with pytest.raises(ActionInvalid, match="is proposed and cannot become done") as refused:
        set_status(config, action.id, "done", today=DAY)
    assert refused.value.message("sv") == "Åtgärden är föreslagen och kan inte bli genomförd."
    agreed = set_status(config, action.id, "agreed", note="Beslut i styrgruppen", today=dt.date(2026, 3, 5))
    assert agreed.decided == dt.date(2026, 3, 5)
    set_status(config, action.id, "in-progress", today=dt.date(2026, 3, 10))
    set_status(config, action.id, "done", outcome=["routine"], today=dt.date(2026, 4, 2))
    with pytest.raises(ActionInvalid, match="needs evidence that it worked"):
        set_status(config, action.id, "validated", today=dt.date(2026, 5, 1))
    valid = set_status(config, action.id, "validated", note="Två projekt slapp göra om ritningarna.",
                       today=dt.date(2026, 5, 2))
    assert valid.status == "validated" and valid.outcome == ["routine"]
    assert "## Validering\nTvå projekt slapp göra om ritningarna." in valid.path.read_text(encoding="utf-8")
    assert [c.status for c in valid.history] == ["proposed", "agreed", "in-progress", "done", "validated"]
    assert valid.changed_on("validated") == "2026-05-02"
    with pytest.raises(ActionInvalid, match="cannot become dropped"):
        set_status(config, action.id, "dropped", note="ångrar", today=dt.date(2026, 5, 3))


def test_dropping_needs_a_reason_and_an_unknown_action_is_named(kb_root):
    config = load(kb_root)
    action = _new(config)
    with pytest.raises(ActionInvalid, match="Say why the action is dropped"):
        set_status(config, action.id, "dropped", today=DAY)
    dropped = set_status(config, action.id, "dropped", note="Ingen budget i år", today=DAY)
    assert dropped.reason == "Ingen budget i år"
    with pytest.raises(EntryNotFound, match="no action with id 'nope'"):
        set_status(config, "nope", "agreed")


def test_a_hand_edited_action_file_is_checked_like_an_entry(kb_root):
    config = load(kb_root)
    folder = kb_root / "actions"
    folder.mkdir()
    (folder / "trasig.md").write_text(
        "---\ntitle: Något\nowner: X\ndue: 31 mars\nstatus: klar\nlessons: [finns-inte]\n---\n", encoding="utf-8")
    (folder / "tappad.md").write_text(
        "---\ntitle: Något\nowner: X\ndue: 2026-03-31\nstatus: dropped\nlessons: [laddplatser]\n---\n",
        encoding="utf-8")
    problems = load_actions(config, lessons={"laddplatser"}).problems
    messages = [(p.path.name, p.line, p.message) for p in problems]
    assert ("trasig.md", 4, "missing or bad due date: write it as YYYY-MM-DD") in messages
    assert any(m[0] == "trasig.md" and m[1] == 5 and "unknown status 'klar'" in m[2] for m in messages)
    assert ("trasig.md", 6, "unknown lesson 'finns-inte': no entry has this id") in messages
    assert ("tappad.md", 5, "a dropped action needs a reason: reason: ...") in messages
    validate = CliRunner().invoke(cli, ["validate", "--root", str(kb_root)])
    assert validate.exit_code == 1 and "actions/trasig.md:6: unknown lesson 'finns-inte'" in validate.stderr


def test_the_cli_creates_moves_and_lists_actions(kb_root):
    root = ["--root", str(kb_root)]
    runner = CliRunner()
    new = runner.invoke(cli, ["action", "new", "--title", "Tidig dialog med nätägaren", "--lesson", "laddplatser",
                              "--lesson", "vaermepump-holma", "--owner", "E.ON", "--due", "2020-01-31", "--json", *root])
    assert new.exit_code == 0, new.output
    action_id = json.loads(new.stdout)["id"]
    listed = json.loads(runner.invoke(cli, ["actions", "--json", *root]).stdout)
    assert listed[0]["id"] == action_id and listed[0]["overdue"] is True
    assert set(listed[0]) >= {"id", "title", "owner", "due", "status", "lessons", "areas", "overdue"}
    assert listed[0]["areas"] == ["bygg", "mobilitet"]
    assert json.loads(runner.invoke(cli, ["actions", "--overdue", "--area", "bygg", "--owner", "e.on", "--json",
                                          *root]).stdout)[0]["id"] == action_id
    assert json.loads(runner.invoke(cli, ["actions", "--area", "energi", "--json", *root]).stdout) == []
    moved = runner.invoke(cli, ["action", "set", action_id, "--status", "agreed", *root])
    assert moved.exit_code == 0 and f"{action_id}: beslutad" in moved.stdout  # the knowledge base's language
    refused = runner.invoke(cli, ["action", "set", action_id, "--status", "validated", *root])
    assert refused.exit_code == 1 and "Åtgärden är beslutad och kan inte bli validerad." in refused.stderr
    assert "Tips: Från beslutad kan den bli: in-progress, done, dropped." in refused.stderr  # the values to type
    bad = runner.invoke(cli, ["action", "new", "--title", "x", "--lesson", "nej", "--owner", "X",
                              "--due", "2026-01-01", *root])
    assert bad.exit_code == 1 and "Okänd lärdom 'nej'" in bad.stderr
    text = runner.invoke(cli, ["actions", *root]).stdout
    # agreed, still open, past its due date; the words around the content in its language
    assert "Tidig dialog med nätägaren  FÖRSENAD" in text and "OVERDUE" not in text and "Beslutad" in text
