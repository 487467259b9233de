"""kb validate (and kb serve at start) say what kb.toml leaves unsaid that readers will miss:
where the pages are published (base_url) and who answers for the accessibility statement."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kb.cli import cli


def validate(root):
    return CliRunner().invoke(cli, ["validate", "--root", str(root)])


def test_validate_warns_until_kb_toml_names_base_url_and_a_real_contact(kb_root):
    result = validate(kb_root)
    assert result.exit_code == 0  # warnings: the service works, but readers miss something
    assert "kb.toml:1: warning: base_url is not set" in result.stderr
    assert "kb.toml:1: warning: the accessibility statement names no contact" in result.stderr
    toml = kb_root / "kb.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text('base_url = "https://larande.example.se"\n' + base
                    + '\n[accessibility]\ncontact = "Klimatenheten"\nemail = "klimat@example.se"\n', encoding="utf-8")
    placeholder = validate(kb_root)
    assert "base_url" not in placeholder.stderr
    assert "looks like a placeholder (klimat@example.se)" in placeholder.stderr
    line = placeholder.stderr.split("looks like a placeholder")[0].rsplit("\n", 1)[-1]
    assert line.startswith("kb.toml:") and int(line.split(":")[1]) > 1  # the [accessibility] line
    toml.write_text('base_url = "https://larande.malmo.se"\n' + base
                    + '\n[accessibility]\ncontact = "Klimatenheten, Malmö stad"\nemail = "klimat@malmo.se"\n',
                    encoding="utf-8")
    named = validate(kb_root)
    assert "warning" not in named.stderr
    as_json = json.loads(CliRunner().invoke(cli, ["validate", "--json", "--root", str(kb_root)]).stdout)
    assert as_json["warnings"] == []
