"""The knowledge bases of the sharing tests: a city that publishes (its lessons at each
visibility, with words that appear nowhere else, so a test can look for them in every byte of
the publication) and the kb.toml table that lets it publish."""

from __future__ import annotations

from pathlib import Path

from .helpers import entry_text
from .samples import KB_TOML

SHARING = """
[sharing]
organisation = "{organisation}"
organisation_number = "212000-1124"
licence = "http://creativecommons.org/licenses/by/4.0/"
contact_name = "Klimatenheten"
contact_email = "klimat@example.se"
"""

# words that exist only in the lesson that is not public: none may reach the publication
INTERNAL_TITLE = "Hemliga förhandlingen om Kvarnbyhallen sprack"
INTERNAL_TEXT = "Fastighetschefen Pelle Kvarnström ville inte skriva under avsiktsförklaringen."
PARTNER_TITLE = "Partnerutkastet om Vattenverksgatans laddhubb"
PARTNER_TEXT = "Det interna förslaget från Sydkraftsgruppen om Vattenverksgatan är ännu inte godkänt."
AUTHOR = "anna.andersson"  # a user name, kept in the entry's front matter by the web form
PUBLIC_TITLE = "Nätägaren gav kapacitetsbesked på en vecka när vi frågade tidigt"


def city_entries(prefix: str = "", *, public_title: str = PUBLIC_TITLE) -> dict[str, str]:
    """Three lessons of one city: internal, partner and public (the last one with an author,
    a roadmap id and an actor that is a person's name)."""
    return {
        f"energi/{prefix}intern.md": entry_text(
            {"id": f"{prefix}intern", "title": INTERNAL_TITLE, "area": "energi", "date": "2026-02-01",
             "type": "obstacle", "tags": ["förhandling"], "visibility": "internal"},
            happened=INTERNAL_TEXT, learned="Förankra tidigt hos fastighetsägaren."),
        f"mobilitet/{prefix}partner.md": entry_text(
            {"id": f"{prefix}partner", "title": PARTNER_TITLE, "area": "mobilitet", "date": "2026-03-01",
             "type": "idea", "tags": ["laddning"], "visibility": "partner"},
            happened=PARTNER_TEXT, learned="Dela utkastet med partnerna först."),
        f"bygg/{prefix}oppen.md": entry_text(
            {"id": f"{prefix}oppen", "title": public_title, "area": "bygg", "date": "2026-04-01",
             "type": "lesson", "tags": ["elnät", "värmepump"], "actors": ["E.ON", "Karin Lindqvist"],
             "roadmap": ["BYG-9"], "visibility": "public", "author": AUTHOR, "related": [f"{prefix}intern"]},
            happened="Innan projekteringen av värmepumparna frågade vi nätägaren om kapaciteten i elnätet.",
            learned="Fråga nätägaren tidigt om kapaciteten i elnätet, innan platsen väljs."),
    }


def write_city(root: Path, *, organisation: str = "Malmö stad", entries: dict[str, str] | None = None,
               base_url: str | None = None) -> Path:
    """A knowledge base that publishes (kb.toml with [sharing]) with ``entries``."""
    root.mkdir(parents=True, exist_ok=True)
    top = f'base_url = "{base_url}"\n' if base_url else ""
    (root / "kb.toml").write_text(top + KB_TOML + SHARING.format(organisation=organisation), encoding="utf-8")
    for rel, text in (entries if entries is not None else city_entries()).items():
        path = root / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def validated_action(root: Path, action_id: str, lesson: str, *, visibility: str, title: str,
                     owner: str = "Stadsfastigheter") -> None:
    folder = root / "actions"
    folder.mkdir(exist_ok=True)
    (folder / f"{action_id}.md").write_text(
        f"---\nid: {action_id}\ntitle: {title}\nowner: {owner}\ndue: 2026-06-01\nstatus: validated\n"
        f"lessons: [{lesson}]\noutcome: [routine]\nvisibility: {visibility}\n"
        "history:\n  - {date: 2026-04-02, status: proposed}\n  - {date: 2026-05-20, status: validated}\n"
        f"---\n## Validering\nTre projekt fick besked inom en vecka ({title}).\n", encoding="utf-8")
