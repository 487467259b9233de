"""Every text a person reads in the product, in Swedish and in English, in one table.

Web pages, reports, pictures, policy labels and capture's messages all take their words
from here, so a page or a file is in one language from top to bottom and a translator
finds every text in one place. ``tests/test_texts.py`` checks that each key has both
languages with the same ``{placeholders}`` and that no key is left unused.

Keys start with the part of the product they belong to (``search_``, ``capture_``,
``brief_`` ...). A few families are looked up as a prefix plus an id (an entry type, a
policy level, an action status, a link status, a picture name); the test lists them.

Left outside on purpose: the section headings of the entry, action and question files
(``kb.app.capture``, ``kb.core.actions``, ``kb.core.agenda``: part of the file format), the CLI's own messages (the CLI speaks English) and messages
about the entry file format (``kb validate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from kb.core.language import LANGUAGES

DEFAULT_LANGUAGE = "sv"

TEXTS: dict[str, tuple[str, str]] = {
    # --- shared by every page -------------------------------------------------------------
    "page_other_language": ("English", "Svenska"),  # the link to the page in the other language
    "page_no_kb": ("Ingen kunskapsbank hittades i den här Datasette-instansen.",
                   "This Datasette instance serves no knowledge base."),
    "menu_browse": ("Bläddra bland poster", "Browse entries"),
    "table_vector_cell": ("vektor, {dim} dim", "vector, {dim} dim"),
    "unit_entries": ("poster", "entries"),
    "areas_heading": ("Områden", "Areas"),
    "selection_empty": ("Inget i urvalet.", "Nothing in this selection."),

    # --- the learning loop: actions and the learning agenda ----------------------------------
    "agenda_from_obstacle": ("Hur undanröjer vi hindret ”{label}”?", "How do we remove the obstacle “{label}”?"),

    # --- filters (search, cross-area, policy and brief pages) -----------------------------
    "filter_area": ("Område", "Area"),
    "filter_all_areas": ("Alla områden", "All areas"),
    "filter_type": ("Typ", "Type"),
    "filter_all_types": ("Alla typer", "All types"),
    "filter_since": ("Från", "From"),
    "filter_until": ("Till", "Until"),
    "filter_date_placeholder": ("ÅÅÅÅ-MM-DD", "YYYY-MM-DD"),
    "filter_show": ("Visa", "Show"),
    "filter_unknown_area": ("Okänt område: {value}", "Unknown area: {value}"),
    "filter_unknown_type": ("Okänd typ: {value}", "Unknown type: {value}"),
    "filter_bad_date": ("Ogiltigt datum: {value} (skriv ÅÅÅÅ-MM-DD)", "Bad date: {value} (write YYYY-MM-DD)"),
    "filter_bad_limit": ("Antalet (n) måste vara ett heltal: {value}",
                         "The number (n) must be a whole number: {value}"),

    # --- an entry's fields and labels -----------------------------------------------------
    "field_tags": ("Taggar", "Tags"),
    "field_sprint": ("Sprint", "Sprint"),
    "field_date": ("Datum", "Date"),
    "field_actors": ("Aktörer", "Actors"),
    "field_roadmap": ("Färdplan", "Roadmap"),
    "field_policy": ("Styrmedel", "Policy instruments"),
    "field_path": ("Fil", "File"),
    # entry_type_ + an entry type: one entry's type
    "entry_type_lesson": ("Lärdom", "Lesson"),
    "entry_type_obstacle": ("Hinder", "Obstacle"),
    "entry_type_enabler": ("Möjliggörare", "Enabler"),
    "entry_type_goal-conflict": ("Målkonflikt", "Goal conflict"),
    "entry_type_idea": ("Idé", "Idea"),
    # entry_type_plural_ + an entry type: counted, as in "4 lessons"
    "entry_type_plural_lesson": ("lärdomar", "lessons"),
    "entry_type_plural_obstacle": ("hinder", "obstacles"),
    "entry_type_plural_enabler": ("möjliggörare", "enablers"),
    "entry_type_plural_goal-conflict": ("målkonflikter", "goal conflicts"),
    "entry_type_plural_idea": ("idéer", "ideas"),
    # policy_level_ + a level: the short label on an entry page
    "policy_level_regional": ("regional", "regional"),
    "policy_level_national": ("nationell", "national"),
    "policy_level_eu": ("EU", "EU"),

    # --- search page ----------------------------------------------------------------------
    "search_title": ("Sök i kunskapsbanken", "Search the knowledge base"),
    "search_button": ("Sök", "Search"),
    "search_query_label": ("Vad letar du efter?", "What are you looking for?"),
    "search_query_placeholder": ("t.ex. upphandling av laddplatser", "e.g. procurement of charging points"),
    "search_tags_placeholder": ("kommaseparerade, t.ex. elnät, cykel", "comma-separated, e.g. elnät, cykel"),
    "search_results": ("träffar", "results"),
    "search_no_hits": ("Inga poster hittades. Pröva andra ord, eller färre filter.",
                       "No entries found. Try other words, or fewer filters."),
    "search_empty_query": (
        "Skriv en fråga, på svenska eller engelska. Sökningen hittar poster som betyder samma sak "
        "även om orden skiljer sig.",
        "Type a question, in Swedish or English. The search finds entries that mean the same even "
        "when the words differ."),
    "search_score": ("poäng", "score"),
    "search_json": ("JSON", "JSON"),
    "search_browse": ("Bläddra bland alla poster", "Browse all entries"),
    "search_no_close_match": (
        "Ingen post ligger nära frågan: de närmaste är för långt ifrån för att visas.",
        "No entry is close to the question: the nearest ones are too far from it to show."),
    "search_show_nearest": ("Visa de närmaste ändå", "Show the nearest anyway"),
    "search_left_out": ("{count} svagare träffar visas inte: de ligger inte nära frågan.",
                        "{count} weaker results are not shown: they are not close to the question."),
    "search_show_all": ("Visa alla träffar", "Show all results"),
    "search_showing_all": ("Alla träffar visas, också de som inte ligger nära frågan.",
                           "Every result is shown, also those that are not close to the question."),
    "search_match": ("matchning", "match"),
    "search_match_hint": ("Hur nära frågan posten ligger jämfört med kunskapsbankens övriga texter",
                          "How close the entry is to the question compared with the rest of the knowledge base"),
    "search_bad_min_score": ("Minsta matchning (min_score) måste vara ett tal: {value}",
                             "The minimum match (min_score) must be a number: {value}"),
    "search_query_too_long": ("Frågan är för lång (högst {n} tecken).",
                              "The query is too long (at most {n} characters)."),

    # --- entry page -----------------------------------------------------------------------
    "entry_not_found": ("Posten finns inte.", "No such entry."),
    "entry_back_to_search": ("Tillbaka till sökningen", "Back to search"),
    "entry_in_table": ("Visa i tabellen", "Show in the table"),
    "entry_related_heading": ("Relaterade lärdomar", "Related lessons"),
    "entry_related_hint": ("Poster som delar ord, innebörd eller taggar med den här, andra områden först.",
                           "Entries that share words, meaning or tags with this one, other areas first."),
    "entry_no_related": ("Ingen annan post ligger nära den här ännu.", "No other entry is close to this one yet."),
    "entry_confirmed_links": ("Bekräftade kopplingar", "Confirmed links"),
    "entry_cited_by": ("Kopplas ihop med av", "Linked from"),
    "entry_missing": ("finns inte i indexet", "not in the index"),

    # --- Datasette's own pages: metadata and canned queries -------------------------------
    "metadata_entries_title": ("Poster (entries)", "Entries"),
    "metadata_entries_description": (
        "En rad per reflektion. Facetter: område, typ, taggar, sprint och datum.",
        "One row per reflection. Facets: area, type, tags, sprint and date."),
    "query_latest_obstacles_title": ("Senaste hindren per område", "Latest obstacles per area"),
    "query_latest_obstacles_description": ("De tre senaste posterna av typen obstacle i varje område.",
                                           "The three latest entries of type obstacle in each area."),
    "query_entries_per_month_title": ("Poster per område och månad", "Entries per area and month"),
    "query_entries_per_month_description": ("Hur många reflektioner varje område loggat per månad.",
                                            "How many reflections each area logged per month."),
    "query_most_linked_title": ("Mest länkade poster", "Most linked entries"),
    "query_most_linked_description": (
        "Poster som flest andra poster anger i related: (bekräftade kopplingar).",
        "Entries that the most other entries list in related: (confirmed links)."),
    "query_search_title": ("Sök med kb_search()", "Search with kb_search()"),
    "query_search_description": (
        "Semantisk + ordsökning genom SQL-funktionen kb_search(fråga, antal).",
        "Semantic + keyword search through the SQL function kb_search(query, limit)."),

    # --- cross-area pages: synergies, obstacles, goal conflicts, one entry's links --------
    "synergies_title": ("Synergier mellan områden", "Synergies between areas"),
    "synergies_intro": (
        "Par av poster från olika områden som bär samma lärdom. Förslagen bygger på varje posts egna "
        "närmaste grannar; bekräfta eller avvisa med kb link.",
        "Pairs of entries from different areas that carry the same lesson. Suggestions are built from "
        "each entry's own nearest neighbours; confirm or reject with kb link."),
    "synergies_matrix": ("Starka länkar mellan områden", "Strong links between areas"),
    "synergies_silo": ("Andel länkar över områdesgränser", "Share of links crossing areas"),
    "obstacles_title": ("Återkommande hinder", "Recurring obstacles"),
    "obstacles_recurring": ("återkommande", "recurring"),
    "obstacles_once": ("en gång", "once"),
    "obstacles_first_last": ("först–senast", "first–last"),
    "conflicts_title": ("Målkonflikter", "Goal conflicts"),
    "links_title": ("Länkar till andra områden", "Links to other areas"),
    "links_duplicates": ("Nästan dubbletter", "Near-duplicates"),
    "link_why": ("Varför", "Why"),
    # link_status_ + a link's status
    "link_status_confirmed": ("bekräftad", "confirmed"),
    "link_status_suggested": ("förslag", "suggested"),
    "link_status_rejected": ("avvisad", "rejected"),

    # reason_ + a code: why an analysis suggests a link (analysis.reasons.Reason); {area*} are
    # area names, lists come comma-separated
    "reason_confirmed": ("bekräftad av en facilitator", "confirmed by a facilitator"),
    "reason_confirmed_note": ("bekräftad av en facilitator: {note}", "confirmed by a facilitator: {note}"),
    "reason_section_match": ("avsnittet ”{section_a}” ({area_a}) motsvarar ”{section_b}” ({area_b})",
                             "section “{section_a}” ({area_a}) matches “{section_b}” ({area_b})"),
    "reason_mutual_best": ("varandras bästa träff i ett annat område", "each other's best match in another area"),
    "reason_mutual_top": ("bland varandras {k} bästa träffar i andra områden (plats {rank_a} och {rank_b})",
                          "among each other's {k} best matches in other areas (places {rank_a} and {rank_b})"),
    "reason_one_side_top": ("plats {rank} bland de bästa träffarna i andra områden för posten från {area}",
                            "place {rank} among the best matches in other areas for the entry from {area}"),
    "reason_shared_tags": ("samma taggar: {values}", "shared tags: {values}"),
    "reason_shared_actors": ("samma aktörer: {values}", "shared actors: {values}"),
    "reason_shared_roadmap": ("samma färdplansåtgärder: {values}", "shared roadmap actions: {values}"),
    "reason_rare_words": ("ovanliga ord i båda: {words}", "rare words in common: {words}"),
    "reason_close_meaning": ("nära i innebörd", "close in meaning"),
    "reason_words_in_common": ("många av samma ord", "many of the same words"),
    "reason_close_text": ("likhet {similarity:.3f}: {share:.0%} av det typiska avståndet till närmaste granne",
                          "similarity {similarity:.3f}: {share:.0%} of the typical distance to a nearest neighbour"),
    "reason_mutual_nearest": ("varandras närmaste post", "each other's nearest entry"),
    "reason_same_area": ("samma område ({area})", "same area ({area})"),
    "reason_same_sprint": ("samma sprint ({sprint})", "same sprint ({sprint})"),

    # --- roadmaps and policy needs --------------------------------------------------------
    "roadmaps_title": ("Färdplaner", "Roadmaps"),
    "roadmap_actions": ("Åtgärder", "Actions"),
    "roadmap_responsible": ("Ansvarig", "Responsible"),
    "roadmap_status": ("Status", "Status"),
    "roadmap_no_entries": ("Inga poster kopplar till åtgärden ännu.", "No entries cite this action yet."),
    "roadmap_holds": ("ansvarar för", "responsible for"),
    "roadmap_named_in": ("nämns i", "named in"),
    "roadmap_per_sprint": ("Per sprint", "Per sprint"),
    "roadmap_missing": ("Ingen färdplan för {key}.", "No roadmap for {key}."),
    # roadmap_status_ + an action's status
    "roadmap_status_planned": ("planerad", "planned"),
    "roadmap_status_ongoing": ("pågår", "ongoing"),
    "roadmap_status_done": ("klar", "done"),
    "roadmap_status_paused": ("pausad", "paused"),
    "policy_title": ("Behov av ändrade styrmedel", "Policy needs"),
    "policy_intro": (
        "Hinder som kräver ändrade styrmedel på regional, nationell eller EU-nivå, grupperade efter "
        "återkommande tema. Underlag för stadens positionspapper.",
        "Obstacles that need changes to regional, national or EU policy instruments, grouped by "
        "recurring theme. Input for the city's position papers."),
    "policy_none": ("Inga poster med styrmedelsbehov i urvalet.",
                    "No entries with policy needs in this selection."),
    "policy_ungrouped": ("Övriga behov", "Other needs"),
    # policy_level_name_ + a level: the heading of a level in the policy needs
    "policy_level_name_regional": ("Regional nivå", "Regional level"),
    "policy_level_name_national": ("Nationell nivå", "National level"),
    "policy_level_name_eu": ("EU-nivå", "EU level"),
    # the policy needs as a Markdown handout
    "policy_md_period": ("Period: {period}", "Period: {period}"),
    "policy_md_from": ("från {date}", "from {date}"),
    "policy_md_until": ("till {date}", "until {date}"),
    "policy_md_areas": ("Områden: {areas}", "Areas: {areas}"),
    "policy_md_level_areas": ("Berörda områden: {areas}", "Areas affected: {areas}"),
    "policy_md_count": ("{count} poster pekar på styrmedel som behöver ändras.",
                        "{count} entries point to policy instruments that need to change."),
    "policy_md_none": ("Inga poster med `policy:` i urvalet.",
                       "No entries with `policy:` in this selection."),

    # --- logging a reflection (the web form, kb new --from-stdin, kb import) ---------------
    "capture_new_title": ("Logga en reflektion", "Log a reflection"),
    "capture_new_intro": (
        "Fem minuter efter sprinten: vad hände, vad lärde ni er, vad gör ni nu? Innan du sparar visas "
        "liknande lärdomar från andra områden.",
        "Five minutes after the sprint: what happened, what did you learn, what next? Before you save, "
        "similar lessons from other areas are shown."),
    "capture_title": ("Rubrik", "Title"),
    "capture_title_hint": ("Vad hände, i en mening", "What happened, in a sentence"),
    "capture_sprint_hint": ("t.ex. 2026-S1 (tomt: från datumet)", "e.g. 2026-S1 (empty: from the date)"),
    "capture_actors": ("Aktörer (rådighet)", "Actors (mandate)"),
    "capture_roadmap": ("Färdplansåtgärder", "Roadmap actions"),
    "capture_list_hint": ("kommaseparerade", "comma-separated"),
    "capture_preview_button": ("Förhandsgranska", "Preview"),
    "capture_save_button": ("Spara", "Save"),
    "capture_preview_heading": ("Förhandsvisning", "Preview"),
    "capture_similar_heading": ("Liknande lärdomar, andra områden först",
                                "Similar lessons, other areas first"),
    "capture_similar_none": ("Inga liknande lärdomar hittades.", "No similar lessons found."),
    "capture_duplicate_warning": (
        "Det här liknar mycket en lärdom som redan finns: {title}. Lägg hellre till i den, eller spara "
        "om de skiljer sig.",
        "This is very close to a lesson that already exists: {title}. Consider adding to it instead, "
        "or save if they differ."),
    "capture_fix_errors": ("Rätta fälten nedan; inget har sparats.",
                           "Fix the fields below; nothing was saved."),
    "capture_signed_in_as": ("Inloggad som {name}", "Signed in as {name}"),
    "capture_sign_out": ("Logga ut", "Sign out"),
    "capture_login_title": ("Logga in för att skriva", "Sign in to write"),
    "capture_login_intro": ("Alla kan läsa; att logga en reflektion kräver inloggning.",
                            "Everyone can read; logging a reflection needs sign-in."),
    "capture_user": ("Användarnamn", "User name"),
    "capture_password": ("Lösenord", "Password"),
    "capture_sign_in": ("Logga in", "Sign in"),
    "capture_bad_login": ("Fel användarnamn eller lösenord.", "Wrong user name or password."),
    "capture_too_many": ("För många misslyckade inloggningar. Försök igen om {minutes} min.",
                         "Too many failed sign-ins. Try again in {minutes} min."),
    "capture_no_writers": ("Inga skribenter är konfigurerade (kb.toml [auth] writers eller KB_WRITERS).",
                           "No writers are configured (kb.toml [auth] writers or KB_WRITERS)."),
    "capture_forbidden": ("Du behöver logga in som skribent för att logga en reflektion.",
                          "You need to sign in as a writer to log a reflection."),
    "capture_too_large": ("Formuläret är för stort.", "The form is too large."),
    "capture_saved": ("Sparad som {path}. Här är liknande lärdomar.",
                      "Saved as {path}. Here are similar lessons."),
    "capture_saved_unindexed": ("Sparad, men indexet kunde inte uppdateras; kör `kb index`.",
                                "Saved, but the index could not be updated; run `kb index`."),
    # the checks of each field of a draft
    "capture_check_title_missing": ("Skriv en rubrik.", "Give a title."),
    "capture_check_title_too_long": ("Rubriken är för lång (högst {max} tecken).",
                                     "The title is too long (at most {max} characters)."),
    "capture_check_area": ("Välj ett område: {areas}.", "Choose an area: {areas}."),
    "capture_check_type": ("Välj en typ: {types}.", "Choose a type: {types}."),
    "capture_check_date_missing": ("Ange datum (ÅÅÅÅ-MM-DD).", "Give a date (YYYY-MM-DD)."),
    "capture_check_date_bad": ("Ogiltigt datum {value}: skriv ÅÅÅÅ-MM-DD.",
                               "Bad date {value}: write YYYY-MM-DD."),
    "capture_check_sprint": ("Sprint: bokstäver, siffror, '.', '_', '-' (högst {max}).",
                             "Sprint: letters, digits, '.', '_', '-' (at most {max})."),
    "capture_check_too_many_values": ("Högst {max} värden.", "At most {max} values."),
    "capture_check_value_too_long": ("Varje värde högst {max} tecken.",
                                     "Each value at most {max} characters."),
    "capture_check_language": ("Språk: sv eller en.", "Language: sv or en."),
    "capture_check_too_many_sections": ("Högst {max} avsnitt.", "At most {max} sections."),
    "capture_check_heading": ("Avsnittsrubrik saknas eller är för lång: {heading}.",
                              "A section heading is missing or too long: {heading}."),
    "capture_check_text_too_long": ("Texten är för lång (högst {max} tecken).",
                                    "The text is too long (at most {max} characters)."),
    "capture_check_no_section": ("Skriv minst ett avsnitt.", "Write at least one section."),
    "capture_check_author_too_long": ("Författarnamnet är för långt.", "The author's name is too long."),
    "capture_check_control_characters": ("Otillåtna styrtecken.", "Control characters are not allowed."),
    "capture_check_entry_too_long": ("Posten är för lång (högst {max} tecken).",
                                     "The entry is too long (at most {max} characters)."),

    # --- the brief for a learning session (web form, handout, pictures) --------------------
    "brief_title": ("Underlag för lärtillfälle", "Brief for a learning session"),
    "brief_file_stem": ("lartillfalle", "learning-session"),  # the downloaded file's name: ASCII
    "brief_form_make": ("Visa underlaget", "Show the brief"),
    "brief_form_theme": ("Tema (valfritt)", "Theme (optional)"),
    "brief_form_theme_placeholder": ("t.ex. upphandling", "e.g. procurement"),
    "brief_form_since_last": ("Sedan förra underlaget ({date})", "Since the last brief ({date})"),
    "brief_form_language": ("Språk", "Language"),
    "brief_form_download_html": ("Ladda ner HTML (för utskrift)", "Download HTML (for print)"),
    "brief_form_download_md": ("Ladda ner Markdown", "Download Markdown"),
    "brief_form_all_areas_hint": ("Inga valda områden = alla.", "No areas chosen = all."),
    "brief_period": ("Period", "Period"),
    "brief_all_areas": ("alla", "all"),
    "brief_theme": ("Tema", "Theme"),
    "brief_made": ("Underlaget gjort", "Made"),
    "brief_from_start": ("från början", "from the start"),
    "brief_until_now": ("till idag", "until today"),
    "brief_in_scope": ("poster i urvalet", "entries in scope"),
    "brief_links_note": ("Länkarna går till {what}.", "Links go to {what}."),
    "brief_links_files": ("postfilerna (relativa sökvägar)", "the entry files (relative paths)"),
    "brief_links_web": ("postsidorna i kunskapsbanken", "the entry pages of the knowledge base"),
    "brief_obstacles_heading": ("Återkommande hinder", "Recurring obstacles"),
    "brief_obstacles_intro": ("Samma hinder beskrivet med olika ord i flera poster, mest spridda först.",
                              "The same obstacle described in different words in several entries, "
                              "most widespread first."),
    "brief_spread": ("Spridning", "Spread"),
    "brief_once": ("ett tillfälle", "one occasion"),
    "brief_synergies_heading": ("Synergier mellan områden", "Synergies between areas"),
    "brief_synergies_intro": (
        "Poster från olika områden som bär samma lärdom. Bekräftade först, sedan förslag (bekräfta "
        "eller avvisa med kb link).",
        "Entries from different areas that carry the same lesson. Confirmed first, then suggestions "
        "(confirm or reject with kb link)."),
    "brief_conflicts_heading": ("Målkonflikter att diskutera", "Goal conflicts to discuss"),
    "brief_touches": ("berör", "touches"),
    "brief_new_heading": ("Nytt sedan förra underlaget", "New since the last brief"),
    "brief_new_none_before": (
        "Inget tidigare underlag är registrerat; nästa underlag visar det som tillkommit efter detta.",
        "No earlier brief is recorded; the next brief will show what was added after this one."),
    "brief_new_nothing": ("Inga nya poster sedan {date}.", "No new entries since {date}."),
    "brief_questions_heading": ("Frågor att diskutera", "Questions for discussion"),
    # brief_figure_ + a picture name: the caption of a picture in the brief
    "brief_figure_map": ("Karta över lärdomar", "Map of lessons"),
    "brief_figure_heatmap": ("Starka länkar mellan områden", "Strong links between areas"),
    "brief_figure_timeline": ("Hinder över tid", "Obstacles over time"),
    # discussion questions, filled in with what the brief found (no language model)
    "brief_question_obstacle": (
        "Hindret ”{label}” har mötts i {n_areas} områden ({areas}) mellan {first} och {last}. Vem har "
        "rådigheten att undanröja det, och behöver det lyftas som en fråga om styrmedel?",
        "The obstacle “{label}” was met in {n_areas} areas ({areas}) between {first} and {last}. Who "
        "holds the mandate to remove it, and does it need a change in policy instruments?"),
    "brief_question_obstacle_one_area": (
        "Hindret ”{label}” har kommit tillbaka {count} gånger i {areas}. Varför löser det sig inte inom "
        "området, och vem utanför behöver vara med?",
        "The obstacle “{label}” came back {count} times in {areas}. Why is it not solved within the "
        "area, and who outside needs to take part?"),
    "brief_question_synergy": (
        "{area_a} och {area_b} har dragit samma lärdom (”{title_a}” och ”{title_b}”). Vad kan de göra "
        "tillsammans i nästa sprint, och vem tar initiativet?",
        "{area_a} and {area_b} learned the same thing (“{title_a}” and “{title_b}”). What can they do "
        "together next sprint, and who takes the first step?"),
    "brief_question_conflict": (
        "Målkonflikten ”{title}” berör {areas}. Vilka mål krockar, vem avgör prioriteringen och hur "
        "undviker vi suboptimering?",
        "The goal conflict “{title}” touches {areas}. Which goals clash, who decides the priority, and "
        "how do we avoid sub-optimisation?"),
    "brief_question_silo": (
        "{area} har minst andel starka länkar till andra områden ({share}). Vad skulle hjälpa området "
        "att lära av de andra, och de andra av det?",
        "{area} has the smallest share of strong links to other areas ({share}). What would help it "
        "learn from the others, and the others from it?"),
    "brief_question_new": (
        "{count} nya poster sedan förra lärtillfället. Vilken av dem borde alla områden känna till?",
        "{count} new entries since the last learning session. Which one should every area know about?"),
    "brief_question_fallback": ("Vilken lärdom från perioden borde bli en ny rutin eller policy?",
                                "Which lesson from this period should become a new routine or policy?"),

    # --- pictures (map, heatmap, timeline) -------------------------------------------------
    # picture_ + a picture name: its title
    "picture_map": ("Karta över lärdomar", "Map of lessons"),
    "picture_heatmap": ("Starka länkar mellan områden", "Strong links between areas"),
    "picture_timeline": ("Återkommande hinder över tid", "Recurring obstacles over time"),
    "picture_map_subtitle": (
        "Poster nära varandra handlar om samma sak (PCA av språkcentrerade vektorer)",
        "Entries close together are about the same thing (PCA of language-centred vectors)"),
    "picture_map_obstacle": ("hinder", "obstacle"),
    "picture_map_other": ("lärdom, möjliggörare, idé, målkonflikt", "lesson, enabler, idea, goal conflict"),
    "picture_map_outside": ("utanför urvalet", "outside the selection"),
    "picture_map_axis": ("Komponent {k} ({share:.0f} % av variationen)",
                         "Component {k} ({share:.0f} % of the variance)"),
    "picture_heatmap_subtitle": (
        "Antal ömsesidiga närmaste grannar (bekräftade inräknade); diagonalen = inom området",
        "Mutual nearest neighbours (confirmed links included); diagonal = within the area"),
    "picture_heatmap_links": ("länkar", "links"),
    "picture_timeline_subtitle": ("En rad per grupp av liknande hinder; en punkt per post",
                                  "One row per group of similar obstacles; one dot per entry"),
    "picture_empty": ("Inget att visa i urvalet", "Nothing to show in this selection"),

    # --- the yearly report (kb report) ---------------------------------------------------------
    "report_title": ("Årsrapport {year}: vad områdena lärde sig",
                     "Yearly report {year}: what the areas learned"),
    "report_intro": (
        "Underlag till den årliga revideringen av Klimatkontrakt 2030. {total} poster från {year}.",
        "Input for the yearly revision of Klimatkontrakt 2030. {total} entries from {year}."),
    "report_counts": ("Poster per typ", "Entries by type"),
    "report_lessons": ("Viktigaste lärdomarna", "Main lessons"),
    "report_lessons_note": (
        "Lärdomar, möjliggörare och idéer; de som andra områden känner igen (synergier) först.",
        "Lessons, enablers and ideas; those that other areas recognise (synergies) first."),
    "report_echoed": ("ekar i {n} poster från andra områden", "echoed by {n} entries from other areas"),
    "report_policy": ("Hinder som kräver ändrade styrmedel",
                      "Obstacles that need changed policy instruments"),
    "report_actions": ("Färdplanens åtgärder", "Roadmap actions"),
    "report_no_entries": ("inga poster {year}", "no entries in {year}"),
    "report_none": ("Inga poster {year}.", "No entries in {year}."),
    "report_nothing": ("Inga.", "None."),
    "report_actor": ("rådighet", "mandate"),
    # report_level_ + a level: within a sentence of the report
    "report_level_regional": ("regional nivå", "regional level"),
    "report_level_national": ("nationell nivå", "national level"),
    "report_level_eu": ("EU-nivå", "EU level"),
}

# One read-only mapping per language: templates use it as ``t.key`` or ``t["key"]``.
_BY_LANGUAGE = {
    lang: MappingProxyType({key: pair[i] for key, pair in TEXTS.items()}) for i, lang in enumerate(LANGUAGES)
}


def pick_language(requested: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """``requested`` if we have it, else ``default`` (e.g. the KB's language), else Swedish."""
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def texts(lang: str | None) -> MappingProxyType:
    """All texts in one language, keyed as in :data:`TEXTS`."""
    return _BY_LANGUAGE[pick_language(lang)]


def text(key: str, lang: str | None, /, **params) -> str:
    """One text in one language, its ``{placeholders}`` filled from ``params`` (positional-only
    arguments first, so a placeholder may be called ``key`` or ``lang``)."""
    value = texts(lang)[key]
    return value.format(**params) if params else value


@dataclass
class Message:
    """A text to show later, in the reader's language: a key and its parameters. Lets the
    code that finds a problem stay silent about language (e.g. capture's field checks)."""

    key: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str | None) -> str:
        return text(self.key, lang, **self.params)
