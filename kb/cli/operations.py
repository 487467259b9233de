"""Operations: export for the archive (kb export), backup (kb backup) and restore (kb restore)."""

from __future__ import annotations

from pathlib import Path

import click

from kb.app.backup import backup as make_backup
from kb.app.backup import restore as restore_backup
from kb.app.export import export_zip
from kb.cli.options import handle_errors, json_option, open_kb, print_json, root_option


@click.command()
@root_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The .zip file to write (atomically).")
@json_option
@handle_errors
def export(root, output, as_json):
    """Export the knowledge base for the archive and for other tools, as one .zip: the Markdown
    files, entries.jsonl (every field and section), entries.csv, actions, agenda and roadmaps
    as JSON, the latest yearly report as HTML and a README describing each format (UTF-8).

    \b
      kb export -o klimat-kb-2026.zip
      kb import entries.jsonl --write      reads its entries.jsonl back, without a mapping
    """
    kb = open_kb(root)
    report = export_zip(kb.config, Path(output), kb=kb)
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(f"Wrote {output}: {report.entries} entries, {len(report.files)} files"
               + (f", the yearly report for {report.report_year}" if report.report_year else "") + ".")
    for line in report.skipped:
        click.echo(f"left out: {line}", err=True)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@root_option
@click.option("--keep", type=click.IntRange(1), help="Keep only the newest N backups in DIRECTORY.")
@json_option
@handle_errors
def backup(directory, root, keep, as_json):
    """Back up the knowledge base into a new folder DIRECTORY/kb-backup-<UTC time>/: the files,
    the audit log and a consistent snapshot of the index (SQLite's backup API), with a manifest
    of checksums. Restore with `kb restore`."""
    kb = open_kb(root)
    report = make_backup(kb.config, Path(directory), keep=keep)
    if as_json:
        print_json(report.to_dict())
        return
    index = report.index
    click.echo(f"Backed up to {report.path}: {report.files} files, {report.bytes / 1e6:.1f} MB"
               + (f"; index of {index['entries']} entries, {index['chunks']} chunks" if index else "; no index")
               + ".")
    for path in report.removed:
        click.echo(f"removed the older backup {path}")


@click.command()
@click.argument("backup_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--to", "target", required=True, type=click.Path(file_okay=True),
              help="The folder to restore into: new or empty (a restore never writes over a knowledge base).")
@json_option
@handle_errors
def restore(backup_dir, target, as_json):
    """Restore a backup made by `kb backup` into a new folder, after checking every file's
    checksum. The FAISS file is rebuilt from the index on first use."""
    result = restore_backup(Path(backup_dir), Path(target))
    if as_json:
        print_json(result)
        return
    click.echo(f"Restored {result['files']} files from {result['from']} (made {result['made']}) to {result['to']}.")
    click.echo(f"Check it with `kb validate --root {result['to']}` and `kb index --root {result['to']}` "
               "(which should find nothing to do), then swap it in.")
