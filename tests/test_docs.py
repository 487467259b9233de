"""Docs that cannot drift: every command has help text and appears in the README, and the
README's example outputs are what the commands print (made by tests/readme_examples.py
through cog; `make readme` rewrites them)."""

from __future__ import annotations

import ast
import re

import pytest
from click.testing import CliRunner
from cogapp import Cog

from kb.cli import all_commands, cli

from .helpers import REPO

README = REPO / "README.md"
# a cog region: the code in its opening comment, then the output up to [[[end]]]
COG_REGION = re.compile(r"^<!-- \[\[\[cog(?P<code>.*?)\]\]\] -->\n(?P<output>.*?)^<!-- \[\[\[end\]\]\] -->$", re.M | re.S)
FENCED = re.compile(r"^```[^\n]*\n.*?^```$", re.M | re.S)


def test_every_command_has_help():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, command in all_commands().items():
        assert command.help, f"{name} has no help text"
        sub = CliRunner().invoke(cli, [name, "-h"])
        assert sub.exit_code == 0 and "Usage:" in sub.output


def test_every_command_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    missing = [name for name in all_commands() if f"kb {name}" not in readme]
    assert not missing, f"README.md does not mention: {missing}"


def test_the_readme_starts_with_the_two_commands():
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen


# --- the example outputs ---------------------------------------------------------------------
def cog_check(capsys) -> None:
    status = Cog().main(
        ["cog", "--check", "--diff", "--check-fail-msg=run `make readme` and commit README.md", str(README)]
    )
    printed = capsys.readouterr()
    assert status == 0, printed.out + printed.err


def test_readme_outputs_that_need_no_model(monkeypatch, capsys):
    """kb new, kb validate and the kb import dry run; the other blocks are left as they are."""
    monkeypatch.setenv("KB_README_MODEL", "0")
    cog_check(capsys)


@pytest.mark.slow
@pytest.mark.model
def test_readme_outputs(capsys):
    """Every block, on the example knowledge base indexed with the real model."""
    cog_check(capsys)


def test_every_pasted_output_in_the_readme_is_made_by_cog():
    readme = README.read_text(encoding="utf-8")
    made = [region.span("output") for region in COG_REGION.finditer(readme)]
    pasted = [block for block in FENCED.finditer(readme) if re.search(r"^\$ kb ", block[0], re.M)]
    outside = [block[0].splitlines()[1] for block in pasted
               if not any(start <= block.start() and block.end() <= end for start, end in made)]
    assert pasted and not outside, f"blocks with `$ kb` outside a cog block: {outside}"


def skipped_blocks() -> list[tuple[str, str, str]]:
    """(command, reason, the block) of each ``examples.skipped(command, reason)`` in the README."""
    found = []
    for region in COG_REGION.finditer(README.read_text(encoding="utf-8")):
        call = ast.parse(region["code"].strip()).body[-1].value
        if isinstance(call, ast.Call) and ast.unparse(call.func) == "examples.skipped":
            command, reason = (ast.literal_eval(arg) for arg in call.args)
            found.append((command, reason, region["output"]))
    return found


SKIPPED = skipped_blocks()


@pytest.mark.parametrize("command, reason, block", SKIPPED, ids=[command for command, _, _ in SKIPPED])
def test_readme_blocks_that_cannot_run_in_a_test(command, reason, block):
    assert f"$ {command}" in block  # the reason is given for the block it stands above
    pytest.skip(f"README block `{command}` is kept as written: {reason}")
