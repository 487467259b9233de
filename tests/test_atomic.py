"""Atomic writes: whole files or nothing, and the usual permissions."""

from __future__ import annotations

import os

import pytest

from kb.core.files import atomic_write_text, create_exclusive


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "brief.html"
        atomic_write_text(path, "ett")
        assert path.stat().st_mode & 0o777 == 0o644
        os.chmod(path, 0o640)
        atomic_write_text(path, "två")
        assert path.read_text(encoding="utf-8") == "två"
        assert path.stat().st_mode & 0o777 == 0o640
        created = tmp_path / "entry.md"
        create_exclusive(created, "x")
        assert created.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.html", "entry.md"]  # no temp files


def test_create_exclusive_never_overwrites(tmp_path):
    path = tmp_path / "entry.md"
    create_exclusive(path, "först")
    with pytest.raises(FileExistsError):
        create_exclusive(path, "sedan")
    assert path.read_text(encoding="utf-8") == "först"
