"""Commit a new entry to git, with its author, for teams that keep the knowledge base in git.

Turned on for the web form by ``kb.toml``::

    [capture]
    git_commit = true
    git_email = "{name}@malmo.se"   # optional: how a writer's name becomes an e-mail address

and for ``kb new`` by ``--commit``. Only the entry's own file is committed (``git commit
--only``): whatever else someone has staged in the same repository stays staged.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kb.core.config import KBConfig
from kb.core.errors import KBError


class GitError(KBError):
    pass


def enabled(config: KBConfig) -> bool:
    capture = config.raw.get("capture") or {}
    return isinstance(capture, dict) and bool(capture.get("git_commit"))


def author_email(config: KBConfig, name: str) -> str:
    capture = config.raw.get("capture") or {}
    pattern = capture.get("git_email", "") if isinstance(capture, dict) else ""
    return str(pattern).replace("{name}", name) if pattern else ""


def commit_entry(config: KBConfig, path: Path, *, author: str | None = None, message: str | None = None) -> str:
    """Add and commit ``path``; return the new commit's hash. ``author`` (a writer's name)
    becomes the commit's author and committer; without it git's own identity is used."""
    root = config.root
    rel = os.path.relpath(path, root)
    env = dict(os.environ)
    if author:
        email = author_email(config, author)
        env.update(GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=email,
                   GIT_COMMITTER_NAME=author, GIT_COMMITTER_EMAIL=email)
    title = message or f"Lesson {path.stem}" + (f" (by {author})" if author else "")
    _git(root, env, "rev-parse", "--show-toplevel",
         hint="Run `git init` in the knowledge base folder, or turn git_commit off in kb.toml.")
    _git(root, env, "add", "--", rel)
    _git(root, env, "commit", "--quiet", "-m", title, "--only", "--", rel)  # the team's hooks run
    return _git(root, env, "rev-parse", "HEAD").strip()


def _git(root: Path, env: dict, *args: str, hint: str | None = None) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed", hint="Install git, or turn git_commit off in kb.toml.") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"{root}: `git {args[0]}` did not finish in 60 s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"{root}: `git {' '.join(args[:2])}` failed: {detail[-1] if detail else done.returncode}",
                       hint=hint)
    return done.stdout


def in_history(config: KBConfig, path: Path) -> bool:
    """Whether git has ever committed ``path`` (``kb forget`` says so: the file is erased from
    the folder, not from the repository's history)."""
    try:
        out = _git(config.root, dict(os.environ), "log", "--all", "--format=%H", "-1", "--",
                   os.path.relpath(path, config.root))
    except GitError:
        return False  # not a repository, or no git
    return bool(out.strip())
