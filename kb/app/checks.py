"""What kb.toml leaves unsaid that readers will notice: checked by ``kb validate`` and at
``kb serve`` start, as warnings (the service works, but not as well as it should)."""

from __future__ import annotations

import re

from kb.core import config as config_module
from kb.core.config import KBConfig
from kb.core.errors import Problem

PLACEHOLDER_RE = re.compile(r"(@|\.|^)example\.(se|com|org|net)\b|\bexample\b|^TODO|^x+$|^\.\.\.$", re.I)


def config_warnings(config: KBConfig) -> list[Problem]:
    """kb.toml's settings that are missing or still placeholders: ``base_url`` (feeds and
    downloaded briefs link relative to the site without it, which a feed reader or a mail
    cannot follow) and the accessibility statement's contact (the law asks for one)."""
    path = config.root / config_module.CONFIG_NAME
    lines = _lines(path)
    out = []
    if not config.base_url:
        out.append(Problem(path, 1, "base_url is not set: feeds and downloaded briefs link to pages relative "
                                    "to the site, which feed readers and e-mail cannot follow; set base_url = "
                                    '"https://..." (where the pages are published)', "warning"))
    section = config.raw.get("accessibility")
    section = section if isinstance(section, dict) else {}
    contact = " ".join(str(section.get("contact") or "").split())
    email = " ".join(str(section.get("email") or "").split())
    line = next((n for n, text in enumerate(lines, start=1) if text.strip() == "[accessibility]"), 1)
    if not contact:
        out.append(Problem(path, line, "the accessibility statement names no contact: set [accessibility] "
                                       'contact = "..." (who answers readers who cannot use a page)', "warning"))
    elif PLACEHOLDER_RE.search(contact) or (email and PLACEHOLDER_RE.search(email)):
        out.append(Problem(path, line, f"the accessibility statement's contact looks like a placeholder "
                                       f"({email or contact}): name the real one in [accessibility]", "warning"))
    return out


def _lines(path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
