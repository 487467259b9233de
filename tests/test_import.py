"""``kb import``: CSV, XLSX and JSONL registers with Swedish text, through the CLI."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

from indexer.discover import load_entries
from kb.app.importer import Mapping, MappingError, load_area_map, parse_pairs, run_import
from kb.cli import cli
from kb.core.config import load

CSV = """\
Nr;Rubrik;Datum;Område;Vad hände;Lärdom;Taggar
1;Överprövning försenade laddplatserna;2026-03-14;Mobilitet;Upphandlingen överprövades av en leverantör.;Dialog med marknaden före annonsen.;upphandling, laddning
2;Värmepumpar i Holma väntade på elnätet;2026-04-02;Bygg;E.ON saknade kapacitet.;Boka kapacitetsbesked tidigt.;elnät
3;Trasig rad;2026-04-03;Bygg;för få fält
4;Fel datum i registret;14 mars;Energi;Något hände.;Något lärde vi oss.;
2;Värmepumpar i Holma väntade på elnätet;2026-04-02;Bygg;E.ON saknade kapacitet.;Boka kapacitetsbesked tidigt.;elnät
5;Solceller på skolor;2025-05-01;Energi;Ramavtal gjorde det snabbt.;Gemensamma ramavtal lönar sig.;solceller
"""

MAP_ARGS = ["--map", "id=Nr,title=Rubrik,date=Datum,tags=Taggar", "--area-from", "Område",
            "--area-map", "Mobilitet=mobilitet,Bygg=bygg,Energi=energi",
            "--section", "Vad hände?=Vad hände", "--section", "Vad lärde vi oss?=Lärdom",
            "--id-prefix", "reg"]


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture
def register(tmp_path):
    path = tmp_path / "lärdomar.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def new_files(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "entries").rglob("reg-*.md"))


def test_dry_run_shows_what_would_be_written_and_writes_nothing(kb_root, register):
    result = invoke("import", register, "--root", kb_root, *MAP_ARGS)
    assert result.exit_code == 0, result.output
    assert "row 2: create entries/mobilitet/reg-1.md  (Överprövning försenade laddplatserna)" in result.output
    assert "row 4: skipped: has 5 fields, the header has 7" in result.output
    assert "row 5: skipped: date: Ogiltigt datum '14 mars'" in result.output
    assert "row 6: skipped, same id as row 3 (reg-2)" in result.output
    assert "Would create 3 entries; 0 already there, 1 duplicate rows, 2 bad rows skipped" in result.output
    assert "Dry run: nothing written." in result.output
    assert new_files(kb_root) == []


def test_write_creates_valid_entries_and_a_second_import_creates_nothing(kb_root, register):
    first = invoke("import", register, "--root", kb_root, *MAP_ARGS, "--write")
    assert first.exit_code == 0, first.output
    assert new_files(kb_root) == ["entries/bygg/reg-2.md", "entries/energi/reg-5.md", "entries/mobilitet/reg-1.md"]
    loaded = load_entries(load(kb_root))
    assert not loaded.errors
    entry = next(e for e in loaded.entries if e.id == "reg-1")
    assert entry.title == "Överprövning försenade laddplatserna"
    assert entry.tags == ["upphandling", "laddning"] and entry.area == "mobilitet"
    assert [s.heading for s in entry.sections] == ["Vad hände?", "Vad lärde vi oss?"]
    assert entry.extra == {"source": "lärdomar.csv", "source_id": "1"}
    second = invoke("import", register, "--root", kb_root, *MAP_ARGS, "--write", "--json")
    data = json.loads(second.output)
    assert data["counts"] == {"new": 0, "exists": 3, "duplicate": 1, "error": 2}
    assert len(new_files(kb_root)) == 3


def test_without_a_source_key_the_id_is_a_content_hash_and_stable(kb_root, tmp_path):
    path = tmp_path / "utan-nr.csv"
    path.write_text("Rubrik,Datum,Text\nCykelbanan i Hyllie blev försenad,2026-03-14,Överprövning.\n",
                    encoding="utf-8")
    args = ["import", path, "--root", kb_root, "--map", "title=Rubrik,date=Datum", "--area", "mobilitet",
            "--section", "Vad hände?=Text", "--json"]
    first = json.loads(invoke(*args, "--write").output)
    second = json.loads(invoke(*args, "--write").output)
    assert first["counts"]["new"] == 1 and second["counts"] == {"new": 0, "exists": 1, "duplicate": 0, "error": 0}
    assert first["rows"][0]["id"].startswith("imp-")


def test_xlsx_register_with_dates_and_numbers(kb_root, tmp_path):
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nr", "Rubrik", "Datum", "Händelse", "Lärdom"])
    sheet.append([101, "Måltidsavfall i förskolor halverades", dt.datetime(2026, 2, 3), "Vi vägde svinnet.", "Mät först."])
    sheet.append([102, "", dt.date(2026, 2, 4), "Rubrik saknas.", "—"])
    sheet.append([None, None, None, None, None])
    sheet.append([103, "Cykelparkering vid Triangeln", "2026-02-05", "Brist på platser.", "Fråga Skånetrafiken."])
    path = tmp_path / "register.xlsx"
    book.save(path)
    result = invoke("import", path, "--root", kb_root, "--map", "id=Nr,title=Rubrik,date=Datum",
                    "--area", "energi", "--section", "Vad hände?=Händelse", "--section", "Vad lärde vi oss?=Lärdom",
                    "--id-prefix", "reg", "--write")
    assert result.exit_code == 0, result.output
    assert "row 3: skipped: title: Skriv en rubrik" in result.output
    assert new_files(kb_root) == ["entries/energi/reg-101.md", "entries/energi/reg-103.md"]
    text = (kb_root / "entries/energi/reg-101.md").read_text(encoding="utf-8")
    assert "date: 2026-02-03" in text and "source_id: '101'" in text


def test_jsonl_register_lists_broken_lines_and_new_areas(kb_root, tmp_path):
    rows = [
        {"lesson_id": "7", "title": "Fjärrvärme i Rosengård", "organization": "Stadsfastigheter",
         "date": "2025-11-02T00:00:00", "event": "Anslutningen drog ut på tiden.", "topics": ["fjärrvärme", "värme"]},
        "{not json",
        {"lesson_id": "8", "title": "Laddning vid Malmö C", "organization": "Mobilitet",
         "date": "2025-11-03", "event": "Elnätet räckte inte.", "topics": []},
        [1, 2],
    ]
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    args = ["import", path, "--root", kb_root, "--map", "id=lesson_id,title=title,date=date,tags=topics",
            "--area-from", "organization", "--section", "What happened?=event", "--lang", "en", "--id-prefix", "reg"]
    refused = invoke(*args)
    assert "row 1: skipped: area: no area for 'Stadsfastigheter'" in refused.output
    assert "row 2: skipped: not JSON" in refused.output and "row 4: skipped: not a JSON object" in refused.output
    written = invoke(*args, "--add-areas", "--write")
    assert written.exit_code == 0, written.output
    assert "Added areas to kb.toml: stadsfastigheter (Stadsfastigheter)" in written.output
    config = tomllib.loads((kb_root / "kb.toml").read_text(encoding="utf-8"))
    assert {"slug": "stadsfastigheter", "name": "Stadsfastigheter"} in config["areas"]
    assert new_files(kb_root) == ["entries/mobilitet/reg-8.md", "entries/stadsfastigheter/reg-7.md"]
    assert not load_entries(load(kb_root)).errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "title=Rubrik,date=Datum", "--area", "energi", "--section", "X=Saknas"],
         "column 'Saknas' is not in the file"),
        (["--map", "title=Rubrik,date=Datum,färg=Nr", "--area", "energi", "--section", "X=Lärdom"],
         "unknown key 'färg'"),
        (["--map", "date=Datum", "--area", "energi", "--section", "X=Lärdom"], "no column for the title"),
        (["--map", "title=Rubrik,date=Datum", "--section", "X=Lärdom"], "exactly one of --area"),
        (["--map", "title=Rubrik,date=Datum", "--area", "rymden", "--section", "X=Lärdom"], "not in kb.toml"),
        (["--map", "title", "--area", "energi", "--section", "X=Lärdom"], "is not KEY=VALUE"),
        (["--map", "title=Rubrik,date=Datum", "--area", "energi"], "no body sections"),
    ],
)
def test_mapping_errors_are_usage_errors(kb_root, register, args, message):
    result = invoke("import", register, "--root", kb_root, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert new_files(kb_root) == []


def test_area_map_from_a_file_and_pair_parsing(tmp_path):
    toml_file = tmp_path / "areas.toml"
    toml_file.write_text('JSC = "jsc"\n"Kennedy Space Center" = "ksc"\n', encoding="utf-8")
    assert load_area_map(str(toml_file)) == {"JSC": "jsc", "Kennedy Space Center": "ksc"}
    csv_file = tmp_path / "areas.csv"
    csv_file.write_text("Mobilitet,mobilitet\nEnergi och klimat,energi\n", encoding="utf-8")
    assert load_area_map(str(csv_file)) == {"Mobilitet": "mobilitet", "Energi och klimat": "energi"}
    assert parse_pairs(["title=Lesson,date=Date"], "--map") == [("title", "Lesson"), ("date", "Date")]
    assert parse_pairs(["Vad hände, egentligen?=Text"], "--section") == [("Vad hände, egentligen?", "Text")]


def test_unknown_format_is_a_mapping_error(kb_root, tmp_path):
    path = tmp_path / "register.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(MappingError):
        run_import(load(kb_root), path, Mapping(fields={"title": "a", "date": "b"}, area="energi",
                                                 sections=[("X", "c")]))


def test_cp1252_csv_from_swedish_excel(kb_root, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Rubrik;Datum;Text\nÅtervinning på Sofielund;2026-01-10;Sorteringen förbättrades.\n"
                     .encode("cp1252"))
    result = invoke("import", path, "--root", kb_root, "--map", "title=Rubrik,date=Datum", "--area", "bygg",
                    "--section", "Vad hände?=Text", "--write", "--json")
    data = json.loads(result.output)
    assert data["counts"]["new"] == 1
    assert data["rows"][0]["title"] == "Återvinning på Sofielund"


def test_a_new_kb_without_areas_gets_them_from_the_register(tmp_path):
    root = tmp_path / "register-kb"
    root.mkdir()
    (root / "kb.toml").write_text('title = "Register"\nlanguage = "en"\n', encoding="utf-8")
    path = tmp_path / "register.jsonl"
    path.write_text(json.dumps({"n": "1", "title": "Late parts", "org": "KSC", "date": "2024-05-01",
                                "text": "The supplier delivered late."}) + "\n", encoding="utf-8")
    args = ["import", path, "--root", root, "--map", "id=n,title=title,date=date", "--area-from", "org",
            "--section", "What happened?=text", "--lang", "en", "--id-prefix", "reg"]
    without = invoke(*args, "--write")
    assert without.exit_code == 1 and "no [[areas]] defined" in without.output
    written = invoke(*args, "--add-areas", "--write")
    assert written.exit_code == 0, written.output
    assert [a.slug for a in load(root).areas.values()] == ["ksc"]
    assert new_files(root) == ["entries/ksc/reg-1.md"]
    assert not load_entries(load(root)).errors
