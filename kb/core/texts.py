"""Every text a person reads in the product, in Swedish and in English, in one table.

Web pages, reports, pictures, policy labels and capture's messages all take their words
from here, so a page or a file is in one language from top to bottom and a translator
finds every text in one place. ``tests/test_texts.py`` checks that each key has both
languages with the same ``{placeholders}`` and that no key is left unused.

Keys start with the part of the product they belong to (``search_``, ``capture_``,
``brief_`` ...). A few families are looked up as a prefix plus an id (an entry type, a
policy level, an action status, a link status, a picture name); the test lists them.

Left outside on purpose: the section headings of the entry, action and question files
(``kb.app.capture``, ``kb.core.actions``, ``kb.core.agenda``: part of the file format), the CLI's
messages about its own work (indexing, syncing, publishing, files: English) and messages about the
entry file format (``kb validate``). The commands that show the knowledge base's content with words
around it (``kb search``, ``kb similar``, ``kb synergies``, ``kb obstacles``, ``kb conflicts``,
``kb duplicates``, ``kb link``, ``kb roadmap``, ``kb policy``, ``kb actors``, ``kb cities``,
``kb actions``, ``kb agenda``, ``kb session``, ``kb user``) take those words from here, in the
knowledge base's language (kb.toml ``language``), so no English label sits around Swedish content;
ids, paths and ``--json`` stay as they are, for programs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from kb.core.language import LANGUAGES

DEFAULT_LANGUAGE = "sv"

TEXTS: dict[str, tuple[str, str]] = {
    # --- shared by every page -------------------------------------------------------------
    "page_other_language": ("English", "Svenska"),  # the link to the page in the other language
    "page_no_kb": ("Ingen kunskapsbank hittades i den här Datasette-instansen.",
                   "This Datasette instance serves no knowledge base."),
    "page_not_found": ("Sidan finns inte.", "Not found."),
    "page_request_too_large": ("Förfrågan är för stor.", "Request too large."),
    "page_internal_error": ("Ett internt fel uppstod; det är loggat.", "An internal error occurred; it is logged."),
    "page_index_unavailable": ("Kunskapsbanken kan inte visas just nu: det du får läsa håller på att skrivas. "
                               "Försök igen om en stund.",
                               "The knowledge base cannot be shown just now: what you may read is being written. "
                               "Try again in a moment."),
    "sql_not_open": ("Egen SQL är öppen bara för inloggade här; tabellerna och de sparade frågorna är öppna för alla.",
                     "SQL of one's own is open only to people who signed in here; the tables and the saved queries "
                     "are open to all."),
    "sql_off": ("Egen SQL är avstängd här; tabellerna och de sparade frågorna är öppna för alla.",
                "SQL of one's own is turned off here; the tables and the saved queries are open to all."),
    "sql_one_at_a_time": ("En egen SQL-fråga i taget: vänta tills den förra är klar.",
                          "One SQL query of your own at a time: wait until the last one is done."),
    "sql_busy": ("Servern kör redan många egna SQL-frågor; försök igen om en stund.",
                 "The server is already running many SQL queries of visitors' own; try again in a moment."),
    "sql_interrupted": ("Frågan tog längre än {seconds} s och stoppades; begränsa den, till exempel med LIMIT "
                        "eller ett smalare WHERE.",
                        "The query took longer than {seconds} s and was stopped; narrow it, e.g. with LIMIT or a "
                        "narrower WHERE."),
    "sql_result_too_large": ("Svaret är större än {mb} MB; be om färre rader eller kortare värden.",
                             "The answer is larger than {mb} MB; ask for fewer rows or shorter values."),
    "table_vector_cell": ("vektor, {dim} dim", "vector, {dim} dim"),
    "unit_entries": ("poster", "entries"),
    "areas_heading": ("Områden", "Areas"),
    "selection_empty": ("Inget i urvalet.", "Nothing in this selection."),

    # --- roles: what a page offers only to some, and which role it takes (datasette_plugins.roles)
    # role_ + a role id (kb.app.auth.ROLES): its name on screen
    "role_partner": ("partner", "partner"),
    "role_reader": ("läsare", "reader"),
    "role_writer": ("skribent", "writer"),
    "role_facilitator": ("samordnare", "facilitator"),
    "role_admin": ("administratör", "administrator"),
    "role_needed_actions": ("Att föreslå och besluta om åtgärder kräver rollen {role}.",
                            "Proposing and deciding on actions takes the role {role}."),
    "role_needed_agenda": ("Att lägga till, formulera om och besvara lärfrågor kräver rollen {role}.",
                           "Adding, rewording and answering learning questions takes the role {role}."),
    "role_needed_obstacle_question": ("Att göra ett hinder till en lärfråga kräver rollen {role}.",
                                      "Making an obstacle a learning question takes the role {role}."),
    "role_needed_write": ("Att logga en reflektion kräver rollen {role}.", "Logging a reflection takes the role {role}."),
    "role_needed_sessions": ("Att registrera lärtillfällen kräver rollen {role}.",
                             "Recording learning sessions takes the role {role}."),
    "role_you_have": (
        "Du är inloggad som {name} med rollen {role}; be den som sköter tjänsten om du behöver en annan roll.",
        "You are signed in as {name}, with the role {role}; ask whoever runs the service if you need another."),
    "role_page_title": ("Din roll räcker inte här", "Your role does not allow this"),
    "role_to_front": ("Till startsidan", "To the front page"),

    # --- what every page shows around its content (templates/base.html) --------------------
    "skip_to_content": ("Hoppa till innehållet", "Skip to content"),
    "nav_label": ("Huvudmeny", "Main menu"),
    "nav_home": ("Start", "Home"),
    "nav_search": ("Sök", "Search"),
    "nav_synergies": ("Synergier", "Synergies"),
    "nav_obstacles": ("Hinder", "Obstacles"),
    "nav_conflicts": ("Målkonflikter", "Goal conflicts"),
    "nav_roadmaps": ("Färdplaner", "Roadmaps"),
    "nav_policy": ("Styrmedel", "Policy"),
    "nav_actions": ("Åtgärder", "Actions"),
    "nav_agenda": ("Lärfrågor", "Learning questions"),
    "nav_brief": ("Underlag", "Brief"),
    "nav_new": ("Logga en reflektion", "Log a reflection"),
    "nav_sign_in": ("Logga in", "Sign in"),
    "nav_sql": ("Databasen (SQL)", "Database (SQL)"),
    "crumbs_label": ("Du är här", "You are here"),
    "crumb_database": ("Databasen", "Database"),
    "footer_powered_by": ("Byggd med", "Built with"),
    "footer_license": ("Licens:", "Licence:"),
    "footer_source": ("Källa:", "Source:"),
    "footer_about": ("Om:", "About:"),
    "word_and": ("och", "and"),
    "error_not_found": ("Sidan finns inte", "Page not found"),
    "error_heading": ("Något gick fel (fel {status})", "Something went wrong (error {status})"),
    "error_to_start": ("Till startsidan", "To the front page"),
    "language_sv": ("svenska", "Swedish"),
    "language_en": ("engelska", "English"),

    # --- the front page -------------------------------------------------------------------
    "front_search_hint": (
        "Skriv en fråga på svenska eller engelska, t.ex. ”upphandling av laddplatser”. Sökningen hittar "
        "poster som betyder samma sak även om orden skiljer sig.",
        "Type a question in Swedish or English, e.g. “procurement of charging points”. The search finds "
        "entries that mean the same even when the words differ."),
    "front_new_heading": ("Nytt", "New"),
    "front_nothing_yet": ("Inga poster ännu.", "No entries yet."),
    "front_browse_all": ("Bläddra bland alla {count} poster", "Browse all {count} entries"),
    "front_entries_count": ("{count} poster", "{count} entries"),
    "front_no_recurring": ("Inga återkommande hinder ännu.", "No recurring obstacles yet."),
    "front_all_obstacles": ("Alla återkommande hinder", "All recurring obstacles"),
    "front_all_synergies": ("Alla synergier", "All synergies"),
    "front_ways_heading": ("Mer i kunskapsbanken", "More in the knowledge base"),
    "front_new_hint": ("fem minuter efter sprinten", "five minutes after the sprint"),
    "front_brief_hint": ("hinder, synergier och frågor inför ett lärtillfälle",
                         "obstacles, synergies and questions for a learning session"),
    "front_sql": ("Databasen", "The database"),
    "front_sql_hint": ("för dig som vill ställa egna frågor i SQL",
                       "for those who want to ask their own questions in SQL"),

    # --- the accessibility statement (tillgänglighetsredogörelse) ----------------------------
    "statement_title": ("Tillgänglighetsredogörelse", "Accessibility statement"),
    "statement_heading": ("Tillgänglighetsredogörelse för {title}", "Accessibility statement for {title}"),
    "statement_intro": (
        "{title} är en tjänst där omställningsområdena delar lärdomar. Vi vill att så många som möjligt "
        "ska kunna använda den. Här beskriver vi hur tjänsten uppfyller lagen om tillgänglighet till "
        "digital offentlig service, vilka brister vi känner till och hur du kan rapportera brister till "
        "oss så att vi kan åtgärda dem.",
        "{title} is a service where the transition areas share lessons. We want as many people as "
        "possible to be able to use it. This page describes how the service complies with the Swedish "
        "law on accessibility to digital public services, the shortcomings we know of, and how you can "
        "report problems to us so that we can fix them."),
    "statement_how_heading": ("Hur tillgänglig är tjänsten?", "How accessible is the service?"),
    "statement_how": (
        "Tjänsten är delvis förenlig med lagen om tillgänglighet till digital offentlig service, på "
        "grund av de brister som beskrivs nedan.",
        "The service is partially compliant with the law on accessibility to digital public services, "
        "because of the shortcomings described below."),
    "statement_contact_heading": ("Vad kan du göra om du inte kan använda delar av tjänsten?",
                                  "What can you do if you cannot use parts of the service?"),
    "statement_contact_intro": (
        "Om du behöver innehåll från tjänsten i en annan form, eller inte kommer åt något, kontakta oss:",
        "If you need content from the service in another form, or cannot reach something, contact us:"),
    "statement_contact_default": (
        "Kontakta den som driver tjänsten i din organisation.",
        "Contact whoever runs the service in your organisation."),
    "statement_report_heading": ("Rapportera brister i tjänstens tillgänglighet",
                                 "Report shortcomings in the service's accessibility"),
    "statement_report": (
        "Vi försöker hela tiden göra tjänsten mer tillgänglig. Om du upptäcker problem som inte beskrivs "
        "på den här sidan, eller om du anser att vi inte uppfyller lagens krav, meddela oss så att vi "
        "får veta att problemet finns.",
        "We keep working to make the service more accessible. If you find a problem that is not "
        "described on this page, or think that we do not meet the requirements of the law, tell us so "
        "that we know about it."),
    "statement_report_link": ("Kontaktuppgifterna står ovan.", "The contact details are above."),
    "statement_supervision_heading": ("Tillsyn", "Enforcement"),
    "statement_supervision": (
        "Myndigheten för digital förvaltning (Digg) har ansvaret för tillsyn över lagen om tillgänglighet "
        "till digital offentlig service. Om du inte är nöjd med hur vi hanterar dina synpunkter kan du "
        "kontakta Digg och påtala det.",
        "The Agency for Digital Government (Digg) supervises the law on accessibility to digital public "
        "services. If you are not satisfied with how we handle your comments, you can contact Digg and "
        "tell them."),
    "statement_supervision_link": ("Anmäl bristande tillgänglighet till Digg",
                                   "Report a lack of accessibility to Digg (in Swedish)"),
    "statement_technical_heading": ("Teknisk information om tjänstens tillgänglighet",
                                    "Technical information about the service's accessibility"),
    "statement_technical": (
        "Tjänsten är delvis förenlig med nivå AA i standarden Web Content Accessibility Guidelines "
        "(WCAG) 2.1, som EN 301 549 hänvisar till, på grund av de brister som beskrivs nedan.",
        "The service is partially compliant with level AA of the Web Content Accessibility Guidelines "
        "(WCAG) 2.1, which EN 301 549 refers to, because of the shortcomings described below."),
    "statement_gaps_heading": ("Innehåll som inte är tillgängligt", "Content that is not accessible"),
    "statement_gap_sql": (
        "Sidorna för egna SQL-frågor kommer från Datasette. Frågesidorna är på engelska och "
        "kodredigeraren för SQL är inte granskad med skärmläsare.",
        "The pages for one's own SQL queries come from Datasette. The query pages are in English and "
        "the SQL code editor has not been checked with a screen reader."),
    "statement_gap_pictures": (
        "Bilderna (karta över lärdomar, länkar mellan områden, hinder över tid) har en kort "
        "textbeskrivning. Länkarna mellan områdena finns också som tabell och hindren som lista, men "
        "kartans placering av posterna finns bara som bild.",
        "The pictures (map of lessons, links between areas, obstacles over time) have a short text "
        "description. The links between areas are also given as a table and the obstacles as a list, "
        "but where the map places the entries is only shown as a picture."),
    "statement_gap_language": (
        "Språket i en post bestäms automatiskt utifrån orden i texten. En post som blandar svenska och "
        "engelska kan bli markerad med fel språk, så att en skärmläsare uttalar den fel.",
        "The language of an entry is found automatically from its words. An entry that mixes Swedish "
        "and English may be marked with the wrong language, so that a screen reader mispronounces it."),
    "statement_gap_downloads": (
        "Nedladdade underlag (HTML och Markdown) är inte granskade på samma sätt som sidorna.",
        "Downloaded briefs (HTML and Markdown) are not checked the way the pages are."),
    "statement_gap_content": (
        "Posterna skrivs av medarbetare. Rubriker, länktexter och klarspråk i posterna granskas inte "
        "automatiskt.",
        "The entries are written by staff. Headings, link texts and plain language in the entries are "
        "not checked automatically."),
    "statement_tested_heading": ("Hur vi testat tjänsten", "How we tested the service"),
    "statement_tested": (
        "Vi har gjort en självskattning. Varje ändring av tjänsten testas automatiskt med axe-core mot "
        "WCAG 2.1 nivå A och AA på alla sidor som en medarbetare möter, på svenska och engelska, och med "
        "tangentbordet (hopplänk, synligt fokus, formulär). Automatiska test hittar inte alla brister: "
        "klarspråk och skärmläsare behöver en människas granskning.",
        "We have assessed the service ourselves. Every change to the service is tested automatically "
        "with axe-core against WCAG 2.1 levels A and AA on every page a staff member meets, in Swedish "
        "and English, and with the keyboard (skip link, visible focus, forms). Automatic tests do not "
        "find every shortcoming: plain language and screen readers need a person's review."),
    "statement_reviewed": ("Redogörelsen sågs senast över {date}.", "The statement was last reviewed on {date}."),

    # --- Datasette's own table, row and database pages ------------------------------------
    "table_title_entries": ("Poster", "Entries"),
    "table_title_chunks": ("Textavsnitt", "Text chunks"),
    "table_title_followed_entries": ("Andra städers lärdomar", "Other cities' lessons"),
    "table_title_followed_sources": ("Städer vi följer", "Cities we follow"),
    "table_row": ("{count} rad", "{count} row"),
    "table_rows": ("{count} rader", "{count} rows"),
    "table_view": ("vy", "view"),
    "table_private": ("privat", "private"),
    "table_actions": ("Tabellåtgärder", "Table actions"),
    "table_where": ("där", "where"),
    "table_matching": ("som matchar ”{search}”", "matching “{search}”"),
    "table_sorted_by": ("sorterade efter {column}", "sorted by {column}"),
    "table_ascending": ("stigande", "ascending"),
    "table_descending": ("fallande", "descending"),
    "table_sorted_ascending": ("(sorterad stigande)", "(sorted ascending)"),
    "table_sorted_descending": ("(sorterad fallande)", "(sorted descending)"),
    "table_search": ("Sök i tabellen:", "Search the table:"),
    "table_filter_column": ("Filter {n}: kolumn", "Filter {n}: column"),
    "table_filter_op": ("Filter {n}: villkor", "Filter {n}: condition"),
    "table_filter_value": ("Filter {n}: värde", "Filter {n}: value"),
    "table_new_filter_column": ("Nytt filter: kolumn", "New filter: column"),
    "table_new_filter_op": ("Nytt filter: villkor", "New filter: condition"),
    "table_new_filter_value": ("Nytt filter: värde", "New filter: value"),
    "table_remove_filter": ("– ta bort filtret –", "- remove the filter -"),
    "table_choose_column": ("– välj kolumn –", "- choose a column -"),
    "table_sort": ("Sortera …", "Sort …"),
    "table_sort_by": ("Sortera efter {column}", "Sort by {column}"),
    "table_extra_wheres": ("Extra villkor: {count}", "Extra conditions: {count}"),
    "table_remove": ("ta bort", "remove"),
    "table_edit_sql": ("Visa och ändra SQL-frågan", "View and edit the SQL query"),
    "table_data_as": ("Data som", "Data as"),
    "table_more_export": ("fler val", "more options"),
    "table_suggested_facets": ("Föreslagna facetter:", "Suggested facets:"),
    "table_facets_timed_out": ("De här facetterna tog för lång tid:", "These facets took too long:"),
    "table_facet_remove": ("Ta bort facetten {name}", "Remove the facet {name}"),
    "table_facet_unselect": ("Ta bort valet {value}", "Remove the choice {value}"),
    "table_facet_more": ("Visa alla värden", "Show all values"),
    "table_next_page": ("Nästa sida", "Next page"),
    "table_no_rows": ("Inga rader.", "No rows."),
    "table_advanced_export": ("Export", "Export"),
    "table_json_shape": ("JSON i form av:", "JSON shaped as:"),
    "table_shape_default": ("standard", "default"),
    "table_shape_array": ("lista", "array"),
    "table_shape_lines": ("en rad per post", "one line per row"),
    "table_shape_object": ("objekt", "object"),
    "table_csv_options": ("CSV", "CSV"),
    "table_csv_download": ("ladda ner som fil", "download as a file"),
    "table_csv_labels": ("visa etiketter", "expand labels"),
    "table_csv_stream": ("alla rader", "all rows"),
    "table_csv_export": ("Exportera CSV", "Export CSV"),
    "table_open_entry": ("Öppna postens sida", "Open the entry's page"),
    "table_links_from_other_tables": ("Länkar från andra tabeller", "Links from other tables"),
    "table_from_column": ("från {column} i {table}", "from {column} in {table}"),
    "facet_type_array": ("lista", "list"),
    "facet_type_date": ("datum", "date"),
    # Datasette's filter operators that are words
    "lookup_contains": ("innehåller", "contains"),
    "lookup_endswith": ("slutar med", "ends with"),
    "lookup_startswith": ("börjar med", "starts with"),
    "lookup_notlike": ("inte like", "not like"),
    "lookup_in": ("finns bland", "in"),
    "lookup_notin": ("finns inte bland", "not in"),
    "lookup_arraycontains": ("listan innehåller", "list contains"),
    "lookup_arraynotcontains": ("listan saknar", "list does not contain"),
    "lookup_date": ("datum", "date"),
    "lookup_isnull": ("saknar värde", "is null"),
    "lookup_notnull": ("har ett värde", "is not null"),
    "lookup_isblank": ("är tom", "is blank"),
    "lookup_notblank": ("är inte tom", "is not blank"),
    # the columns of our tables
    "column_id": ("Id", "Id"),
    "column_related": ("Bekräftade kopplingar", "Confirmed links"),
    "column_extra": ("Övriga fält", "Other fields"),
    "column_body": ("Text", "Text"),
    "column_content_hash": ("Innehållets kontrollsumma", "Content hash"),
    "column_embedding": ("Vektor", "Vector"),
    "column_lang": ("Språk", "Language"),
    "column_entry_id": ("Post", "Entry"),
    "column_seq": ("Ordning", "Order"),
    "column_kind": ("Slag", "Kind"),
    "column_heading": ("Rubrik i posten", "Heading in the entry"),
    "column_text": ("Text", "Text"),
    "column_line": ("Rad", "Line"),
    "column_tokens": ("Token", "Tokens"),
    "database_actions": ("Databasåtgärder", "Database actions"),
    "database_sql_heading": ("Egen SQL-fråga", "Your own SQL query"),
    "database_sql_format": ("Formatera SQL", "Format SQL"),
    "database_sql_run": ("Kör SQL", "Run SQL"),
    "database_attached": ("De här databaserna är kopplade och kan användas i samma fråga:",
                          "These databases are attached and can be joined in one query:"),
    "database_tables": ("tabeller", "tables"),
    "database_queries": ("Färdiga frågor", "Ready-made queries"),
    "database_tables_heading": ("Tabeller", "Tables"),
    "database_hidden": ("dold", "hidden"),
    "database_many_rows": ("Många rader", "Many rows"),
    "database_hidden_tables": ("… och {count} dolda tabeller", "… and {count} hidden tables"),
    "database_views": ("Vyer", "Views"),
    "database_download": ("Ladda ner SQLite-databasen:", "Download the SQLite database:"),

    # --- why entries are linked or flagged (analysis.reasons; area parameters are slugs) -----
    "conflict_reason_roadmap": ("Färdplansåtgärder i {areas}", "Roadmap actions of {areas}"),
    "conflict_reason_names": ("Texten nämner {areas}", "The text names {areas}"),
    "conflict_reason_closest": ("De närmaste posterna finns i {area}", "The closest entries are in {area}"),
    "conflicts_why": ("Därför berörs de andra områdena:", "Why the other areas are touched:"),

    # --- the learning loop: actions and the learning agenda ----------------------------------
    "agenda_from_obstacle": ("Hur undanröjer vi hindret {obstacle}?", "How do we remove the obstacle {obstacle}?"),
    # an obstacle group named in a sentence: its label, and its kept id when it has one
    "obstacle_quoted": ("”{label}” ({id})", "“{label}” ({id})"),
    "obstacle_quoted_no_id": ("”{label}”", "“{label}”"),
    # action_status_ + a status id: its name on screen
    "action_status_proposed": ("Föreslagen", "Proposed"),
    "action_status_agreed": ("Beslutad", "Agreed"),
    "action_status_in-progress": ("Pågår", "In progress"),
    "action_status_done": ("Genomförd", "Done"),
    "action_status_validated": ("Validerad", "Validated"),
    "action_status_dropped": ("Avskriven", "Dropped"),
    "action_owner": ("Ägare", "Owner"),
    "action_due": ("Klar senast", "Due"),
    "action_overdue": ("försenad", "overdue"),
    "action_lessons": ("Lärdomar", "Lessons"),
    "action_validated_on": ("validerad {date}", "validated {date}"),
    # learned means it did not come back (analysis.recurrence)
    "recurrence_flag": ("Återkommer trots validerad åtgärd", "Recurs despite a validated action"),
    "recurrence_intro": (
        "Åtgärden validerades {date}. Sedan dess har hindret kommit tillbaka: nya hinderposter har gått med i "
        "hindergruppen som åtgärdens lärdomar tillhör, eller ligger nära lärdomarna.",
        "The action was validated on {date}. Since then the obstacle has come back: new obstacle entries joined "
        "the obstacle group of the action's lessons, or lie close to the lessons."),
    "recurrence_held": ("Inget hinder har kommit tillbaka sedan åtgärden validerades {date}.",
                        "No obstacle has come back since the action was validated on {date}."),
    "recurrence_joined": ("gick med i {group}", "joined {group}"),
    "recurrence_close": ("nära lärdomen {lessons}", "close to the lesson {lessons}"),
    "recurrence_cli": ("återkommer", "recurs"),
    "question_open_since": ("öppen sedan {date}: {days} dagar, lärtillfällen sedan dess: {sessions}",
                            "open since {date}: {days} days, learning sessions since: {sessions}"),
    "question_own_session": ("Dags för ett eget lärtillfälle", "Time for a session of its own"),
    "obstacle_no_action": ("ingen åtgärd ännu", "no action yet"),
    # the actions page and the learning agenda page
    "actions_title": ("Åtgärder", "Actions"),
    "actions_intro": (
        "Vad som beslutats att göra åt lärdomarna, av vem och när – och om det fungerade. En lärdom "
        "räknas som lärd först när en åtgärd på den har validerats.",
        "What was decided to do about the lessons, by whom and by when – and whether it worked. A "
        "lesson counts as learned only when an action on it has been validated."),
    "actions_new": ("Föreslå åtgärd", "Propose an action"),
    "actions_filter_status": ("Status", "Status"),
    "actions_all_statuses": ("Alla", "All"),
    "actions_filter_owner": ("Ägare", "Owner"),
    "actions_filter_overdue": ("Bara försenade", "Only overdue"),
    "actions_count": ("{n} åtgärder", "{n} actions"),
    "actions_feed": ("Åtgärder att följa upp (Atom-flöde)", "Actions to follow up (Atom feed)"),
    "action_decided": ("Beslutad", "Decided"),
    "action_history": ("Historik", "History"),
    "action_reason": ("Skäl", "Reason"),
    "action_outcome": ("Ändrade", "Changed"),
    "action_change_status": ("Ändra status", "Change status"),
    "action_new_status": ("Ny status", "New status"),
    "action_note_label": ("Anteckning (skälet om den avskrivs, belägget om den valideras)",
                          "Note (the reason when it is dropped, the evidence when it is validated)"),
    "action_save": ("Spara", "Save"),
    "action_final": ("Åtgärden är validerad; den ändras inte mer.", "The action is validated; it changes no more."),
    "action_form_title": ("Vad ska göras?", "What will be done?"),
    "action_form_lessons": ("Lärdomar (post-id, kommaseparerade)", "Lessons (entry ids, comma-separated)"),
    "action_form_owner": ("Ägare: vem agerar (en aktör)", "Owner: who acts (an actor)"),
    "action_form_due": ("Klar senast", "Due"),
    "action_form_roadmap": ("Färdplansåtgärder (valfritt, t.ex. MOB-1)", "Roadmap actions (optional, e.g. MOB-1)"),
    "action_form_note": ("Varför, eller hur (valfritt)", "Why, or how (optional)"),
    "action_created": ("Åtgärden är föreslagen.", "The action is proposed."),
    "action_updated": ("Åtgärden är nu {status}.", "The action is now {status}."),
    "loop_forbidden": ("Bara samordnare kan ändra åtgärder, lärfrågor, lärtillfällen och hindrens namn.",
                       "Only facilitators can change actions, learning questions, learning sessions and the "
                       "obstacles' names."),
    "obstacle_rename_label": ("Nytt namn på hindret", "New name for the obstacle"),
    "obstacle_rename_button": ("Byt namn", "Rename"),
    "obstacle_renamed": ("{id} har fått nytt namn.", "{id} is renamed."),
    "obstacle_rename_empty": ("Skriv ett namn på hindret.", "Write a name for the obstacle."),
    "obstacle_rename_too_long": ("Namnet får vara högst {limit} tecken.", "The name may be at most {limit} characters."),
    "obstacle_rename_unknown": ("Det finns ingen hindergrupp {id}.", "There is no obstacle group {id}."),
    "obstacle_named": ("namn satt av en samordnare", "named by a facilitator"),
    "agenda_title": ("Lärfrågor", "Learning questions"),
    "agenda_intro": (
        "Hinder omskrivna till lärfrågor med en ägare, som tas upp vid varje lärtillfälle. En fråga som "
        "stått öppen i tre lärtillfällen får ett eget.",
        "Obstacles rewritten as learning questions with an owner, taken up at every learning session. A "
        "question open for three sessions gets a session of its own."),
    "agenda_open": ("Öppna frågor", "Open questions"),
    "agenda_closed": ("Besvarade och avskrivna", "Answered and dropped"),
    "agenda_add": ("Lägg till en lärfråga", "Add a learning question"),
    "agenda_form_question": ("Fråga", "Question"),
    "agenda_form_owner": ("Ägare", "Owner"),
    "agenda_form_entries": ("Poster den kommer från (post-id, kommaseparerade, valfritt)",
                            "Entries it comes from (entry ids, comma-separated, optional)"),
    "agenda_form_answer": ("Svar", "Answer"),
    "agenda_answer_button": ("Besvara", "Answer"),
    "agenda_drop_button": ("Avskriv", "Drop"),
    "agenda_from_obstacle_button": ("Gör till lärfråga", "Make it a learning question"),
    "agenda_added": ("Lärfrågan är tillagd.", "The learning question is added."),
    "agenda_form_question_suggested": ("Fråga (ändra gärna formuleringen)", "Question (reword it as you like)"),
    "agenda_into_button": ("Lägg hindrets poster till den lärfrågan", "Add the obstacle's entries to that question"),
    "agenda_extended": ("Hindrets poster är tillagda i lärfrågan.", "The obstacle's entries are added to the question."),
    "agenda_edit_legend": ("Formulera om", "Reword"),
    "agenda_edit_button": ("Spara formuleringen", "Save the wording"),
    "agenda_edited": ("Lärfrågan är ändrad.", "The learning question is changed."),
    "obstacle_asked_in": ("Tas redan upp i lärfrågan", "Already taken up in the learning question"),
    "obstacle_asked_missing": ("{n} av hindrets poster finns inte med i den", "{n} of the obstacle's entries are not in it"),
    "agenda_closed_message": ("Lärfrågan är stängd.", "The learning question is closed."),
    # question_status_ + a status id
    "question_status_open": ("öppen", "open"),
    "question_status_answered": ("besvarad", "answered"),
    "question_status_dropped": ("avskriven", "dropped"),
    "entry_actions": ("Åtgärder på den här lärdomen", "Actions on this lesson"),
    "entry_no_actions": ("Ingen åtgärd ännu.", "No action yet."),
    # --- the open publication (kb.app.publish, /-/kb/open/): feed, DCAT-AP-SE, its page ---------
    "open_title": ("Lärdomar från {organisation}", "Lessons from {organisation}"),
    "open_description": ("Öppna lärdomar om klimatomställningen från {organisation} ({title}): vad som hände, "
                         "vad vi lärde oss och validerade åtgärder. En lärdom per rad enligt schemat kb-lesson; "
                         "personer namnges aldrig.",
                         "Open lessons on the climate transition from {organisation} ({title}): what happened, "
                         "what we learned and validated actions. One lesson a line in the kb-lesson schema; "
                         "persons are never named."),
    "open_catalog_title": ("Öppna lärdomar från {organisation}", "Open lessons from {organisation}"),
    "open_catalog_description": ("Katalog över de öppna data som {organisation} publicerar från {title}.",
                                 "Catalogue of the open data {organisation} publishes from {title}."),
    "open_distribution_lessons": ("Lärdomarna som JSON Lines, en per rad (schemat kb-lesson).",
                                  "The lessons as JSON Lines, one a line (the kb-lesson schema)."),
    "open_distribution_feed": ("Lärdomarna som Atom-flöde; tillbakadragna lärdomar som gravstenar (RFC 6721).",
                               "The lessons as an Atom feed; withdrawn lessons as tombstones (RFC 6721)."),
    "open_keywords": ("klimatomställning, lärdomar, reflexivt lärande, Klimatkontrakt 2030",
                      "climate transition, lessons learned, reflexive learning, climate city contract"),
    "open_rights": ("Licens: {licence}", "Licence: {licence}"),
    "open_withdrawn": ("Dragen tillbaka av utgivaren: ta bort den.", "Withdrawn by the publisher: remove it."),
    "open_page_title": ("Öppna lärdomar", "Open lessons"),
    "open_page_intro": ("{organisation} publicerar här sina öppna lärdomar, så att andra städer, partner och "
                        "forskare kan läsa, följa och återanvända dem.",
                        "{organisation} publishes its open lessons here, so that other cities, partners and "
                        "researchers can read, follow and reuse them."),
    "open_page_counts": ("{count} lärdomar ({with_actions} med validerade åtgärder); {withdrawn} tillbakadragna.",
                         "{count} lessons ({with_actions} with validated actions); {withdrawn} withdrawn."),
    "open_page_what_heading": ("Vad som publiceras", "What is published"),
    "open_page_what": ("Lärdomar, hinder, möjliggörare, målkonflikter och idéer med synligheten öppen: titel, "
                       "område, typ, datum, taggar, organisationer med rådighet, avsnittens text, och de "
                       "validerade åtgärder som vidtagits utifrån dem. Källan är organisationen.",
                       "Lessons, obstacles, enablers, goal conflicts and ideas whose visibility is public: title, "
                       "area, type, date, tags, organisations holding the mandate, the sections' text, and the "
                       "validated actions taken on them. The source is the organisation."),
    "open_page_never_heading": ("Vad som aldrig publiceras", "What is never published"),
    "open_page_never": ("Interna lärdomar och lärdomar som delas med partner, vem som skrivit något "
                        "(användarnamn), personnamn bland aktörer, färdplanernas id, filnamn, och lärdomar med "
                        "personnummer i texten.",
                        "Internal lessons and lessons shared with partners, who wrote anything (user names), "
                        "persons' names among the actors, the roadmaps' ids, file names, and lessons with a "
                        "personal identity number in their text."),
    "open_page_files_heading": ("Filer", "Files"),
    "open_page_follow_heading": ("Följa publiceringen", "Following the publication"),
    "open_page_follow": ("En annan kunskapsbank följer den med kommandot nedan; kb sync hämtar sedan bara det "
                         "som har ändrats, och tillbakadragna lärdomar försvinner.",
                         "Another knowledge base follows it with the command below; kb sync then fetches only what "
                         "changed, and withdrawn lessons disappear."),
    "open_page_no_url": ("Sveriges dataportal kan skörda DCAT-AP-SE-beskrivningen först när kb.toml anger "
                         "publiceringens webbadress (base_url eller [sharing] url).",
                         "Sveriges dataportal can harvest the DCAT-AP-SE description once kb.toml gives the "
                         "publication's web address (base_url or [sharing] url)."),
    "open_page_licence": ("Licens", "Licence"),
    "open_page_contact": ("Kontakt", "Contact"),
    "open_page_updated": ("Senast ändrad", "Last changed"),
    "open_not_published": ("Den här kunskapsbanken publicerar inga öppna lärdomar: kb.toml saknar [sharing] "
                           "organisation, licence och contact_email.",
                           "This knowledge base publishes no open lessons: kb.toml has no [sharing] organisation, "
                           "licence and contact_email."),
    "open_not_ready": ("Publiceringen är inte klar: kunskapsbanken är inte indexerad än.",
                       "The publication is not ready: the knowledge base is not indexed yet."),
    # --- other cities (analysis.crosscity: /-/kb/cities, the brief) ----------------------------------
    "nav_cities": ("Andra städer", "Other cities"),
    "cities_title": ("Andra städer", "Other cities"),
    "cities_intro": ("Vad våra lärdomar delar med städerna vi följer (kb follow): hinder som en annan stad "
                     "också har mött, och lärdomar som bär mellan städerna. Deras lärdomar står kvar hos dem; "
                     "här visas de bredvid våra, med källa och licens.",
                     "What our lessons share with the cities we follow (kb follow): obstacles another city has "
                     "met too, and lessons that carry between cities. Their lessons stay theirs; here they are "
                     "shown beside ours, with source and licence."),
    "cities_none_followed": ("Vi följer inga andra städer än: kb follow ADRESS --name NAMN.",
                             "We follow no other cities yet: kb follow URL --name NAME."),
    "cities_sources": ("Städer vi följer", "Cities we follow"),
    "cities_source_lessons": ("{count} lärdomar, hämtade {date}", "{count} lessons, fetched {date}"),
    "cities_obstacles": ("Hinder som andra städer också har mött", "Obstacles other cities have met too"),
    "cities_obstacles_intro": ("Ett av våra hinder och ett av deras, bland varandras närmaste: hur löste de det?",
                               "One of our obstacles and one of theirs, among each other's nearest: how did they "
                               "solve it?"),
    "cities_synergies": ("Lärdomar som bär mellan städer", "Lessons that carry between cities"),
    "cities_synergies_intro": ("En lärdom, möjliggörare eller idé hos oss eller dem som ligger nära den andras.",
                               "A lesson, enabler or idea of ours or theirs that lies near the other's."),
    "cities_same_obstacle": ("{source} har mött samma hinder", "{source} has met the same obstacle"),
    "cities_carries": ("En lärdom från {source} som bär hit", "A lesson from {source} that carries here"),
    "brief_cities_heading": ("Från andra städer", "From other cities"),
    "brief_cities_intro": ("Från städerna vi följer ({sources}): hinder de också har mött och lärdomar som bär "
                           "hit, bland våra lärdomar i urvalet.",
                           "From the cities we follow ({sources}): obstacles they have met too and lessons that "
                           "carry here, among our lessons in the selection."),
    "brief_cities_none": ("Vi följer inga andra städer än (kb follow).", "We follow no other cities yet (kb follow)."),
    "brief_question_city": ("{source} har mött samma hinder som vi (\"{title}\"): vad kan vi lära av \"{other}\"?",
                            "{source} has met the same obstacle as we have (\"{title}\"): what can we learn "
                            "from \"{other}\"?"),
    "feed_entries_title": ("Nya lärdomar – {title}", "New lessons – {title}"),
    "feed_filter_tag": ("taggen {tag}", "tag {tag}"),
    "feed_filter_since": ("från {date}", "from {date}"),
    "feed_filter_until": ("till {date}", "until {date}"),
    "feed_actions_title": ("Åtgärder att följa upp – {title}", "Actions to follow up – {title}"),
    "feed_action_item": ("{title} (klar senast {due}, {status})", "{title} (due {due}, {status})"),
    "feed_action_summary": ("Ägare: {owner}. Lärdomar: {lessons}.", "Owner: {owner}. Lessons: {lessons}."),
    # errors when an action or a learning question cannot be written as asked
    "loop_error_unknown_lesson": ("Okänd lärdom {id}: ingen post har det id:t.",
                                  "Unknown lesson {id}: no entry has this id."),
    "loop_error_unknown_roadmap": ("Okänd färdplansåtgärd {id}: se färdplanerna för id:n.",
                                   "Unknown roadmap action {id}: see the roadmaps for the ids."),
    "loop_error_no_lesson": ("En åtgärd följer upp minst en lärdom (ange post-id).",
                             "An action answers at least one lesson (give entry ids)."),
    "loop_error_empty": ("{field} saknas.", "{field} is missing."),
    "loop_error_too_long": ("{field} är för lång (högst {n} tecken).", "{field} is too long (at most {n} characters)."),
    "loop_error_control": ("{field} innehåller otillåtna styrtecken.", "{field} holds control characters."),
    "loop_error_visibility": ("Okänd synlighet {value}: välj intern, partner eller öppen.",
                              "Unknown visibility {value}: choose internal, partner or public."),
    "loop_error_status": ("Okänd status {value!r}: välj en av {statuses}.",
                          "Unknown status {value!r}: choose one of {statuses}."),
    "loop_error_transition": ("Åtgärden är {current} och kan inte bli {new}.",
                              "The action is {current} and cannot become {new}."),
    "loop_error_reason": ("Skriv varför åtgärden avskrivs.", "Say why the action is dropped."),
    "loop_error_evidence": ("En validerad åtgärd behöver belägg för att den fungerade.",
                            "A validated action needs evidence that it worked."),
    "loop_error_outcome": ("Okänd förändring {value}.", "Unknown outcome {value}."),
    "loop_error_date": ("Ogiltigt datum {value}: skriv ÅÅÅÅ-MM-DD.", "Bad date {value}: write YYYY-MM-DD."),
    "loop_error_answer": ("Skriv svaret, eller avskriv frågan.", "Give the answer, or drop the question."),
    "loop_error_closed": ("Frågan är redan stängd.", "The question is already closed."),
    # an id the actions or the agenda do not hold (kb.core.errors.RecordNotFound)
    "loop_error_no_action": ("det finns ingen åtgärd med id {id}", "no action with id {id}"),
    "loop_error_no_question": ("det finns ingen lärfråga med id {id}", "no learning question with id {id}"),
    "loop_hint_list_actions": ("Se dem med `kb actions`.", "List them with `kb actions`."),
    "loop_hint_list_questions": ("Se dem med `kb agenda`.", "List them with `kb agenda`."),
    # what to do about a refusal (kb.app.actions.ActionInvalid's hint on the command line)
    "loop_hint_closed": ("{id} är {status}.", "{id} is {status}."),
    "loop_hint_use_one_of": ("Välj en av: {values}.", "Use one of: {values}."),
    "loop_hint_transition": ("Från {current} kan den bli: {allowed}.", "From {current} it can become: {allowed}."),
    "loop_hint_final": ("inget (den är avslutad)", "nothing (it is final)"),
    "loop_hint_no_lesson": ("Ange --lesson POST-ID.", "Give --lesson ENTRY_ID."),
    "loop_hint_reason": ("Skriv skälet med --note.", "Give the reason with --note."),
    "loop_hint_evidence": ("Skriv belägget med --note (det hamnar i avsnittet ”## Validering”).",
                           "Give the evidence with --note (it goes into the '## Validering' section)."),
    "loop_hint_unknown_roadmap": ("Se roadmaps/*.md (eller `kb roadmap OMRÅDE`) för åtgärdernas id:n.",
                                  "See roadmaps/*.md (or `kb roadmap AREA`) for the action ids."),
    "loop_hint_unknown_lesson": ("Kontrollera id:t med `kb search` eller på postens sida.",
                                 "Check the id with `kb search` or on the entry's page."),
    "loop_field_title": ("Rubriken", "The title"),
    "loop_field_owner": ("Ägaren", "The owner"),
    "loop_field_note": ("Anteckningen", "The note"),
    "loop_field_question": ("Frågan", "The question"),
    "loop_field_answer": ("Svaret", "The answer"),
    "agenda_error_exists": (
        "Lärfrågan ”{question}” ({id}) tar redan upp det här hindret; lägg hindrets poster till den i stället.",
        "The learning question “{question}” ({id}) already covers this obstacle; add the obstacle's entries "
        "to it instead."),
    "cli_agenda_exists_hint": ("Tips: lägg hindrets poster till den med --into {id}, eller gör en egen fråga med --new.",
                               "Hint: add the obstacle's entries to it with --into {id}, or make a separate question "
                               "with --new."),
    "cli_agenda_add_into": ("Lägga hindrets poster till {id}?", "Add the obstacle's entries to {id}?"),
    "cli_agenda_nothing_added": ("Ingen lärfråga är tillagd.", "No learning question was added."),
    "cli_question_open_since": ("öppen sedan {date}, lärtillfällen sedan dess: {sessions}",
                                "open since {date}, learning sessions since: {sessions}"),
    "cli_no_actions": ("Inga åtgärder.", "No actions."),
    "cli_no_questions": ("Inga lärfrågor.", "No learning questions."),
    # --- the command line's words around the content (kb.cli), in the knowledge base's language
    "cli_hint": ("Tips", "Hint"),
    "cli_why": ("varför", "why"),
    "cli_never": ("aldrig", "never"),
    "cli_none_found": ("inga hittades", "none found"),
    "cli_n_entries_one": ("{count} post", "{count} entry"),
    "cli_n_entries": ("{count} poster", "{count} entries"),
    "cli_n_areas_one": ("{count} område", "{count} area"),
    "cli_n_areas": ("{count} områden", "{count} areas"),
    "cli_n_links_one": ("{count} länk", "{count} link"),
    "cli_n_links": ("{count} länkar", "{count} links"),
    "cli_n_lessons_one": ("{count} lärdom", "{count} lesson"),
    "cli_n_lessons": ("{count} lärdomar", "{count} lessons"),
    "cli_run_index": ("Kör `kb index` för att uppdatera indexet.", "Run `kb index` to update the index."),
    # kb search, kb similar
    "cli_result_from": ("från {source}", "from {source}"),
    # cli_match_ + a match (search.match: close, weak): a result's mark on its line
    "cli_match_close": ("nära", "close"),
    "cli_match_weak": ("svag", "weak"),
    "cli_search_no_close": (
        "Ingen nära träff: inget i kunskapsbanken ligger nära frågan. De närmaste posterna, alla svaga:",
        "No close match: nothing in the knowledge base is close to the question. The nearest entries, all weak:"),
    "cli_search_no_close_only": (
        "Ingen nära träff: inget i kunskapsbanken ligger nära frågan (utan --close-only visas de närmaste, "
        "markerade som svaga).",
        "No close match: nothing in the knowledge base is close to the question (without --close-only the "
        "nearest are shown, marked weak)."),
    "cli_search_left_out_one": ("{count} svag träff visas inte ({hint}).", "{count} weak result not shown ({hint})."),
    "cli_search_left_out": ("{count} svaga träffar visas inte ({hint}).", "{count} weak results not shown ({hint})."),
    "cli_search_hint_all": ("--all visar alla", "--all shows them"),
    "cli_search_hint_close_only": ("utan --close-only visas de, markerade som svaga",
                                   "without --close-only they are shown, marked weak"),
    "cli_no_similar": ("Inga liknande poster.", "No similar entries."),
    # kb synergies, kb obstacles, kb conflicts, kb duplicates, kb link
    "cli_no_synergies": ("Inga synergier att föreslå.", "No synergies suggested."),
    "cli_matrix_heading": (
        "Starka länkar (ömsesidigt bland varandras tre närmaste; bekräftade räknas med, avvisade inte):",
        "Strong links (mutual top-3 neighbours, confirmed included, rejected left out):"),
    "cli_silo_heading": (
        "Siloindex (andelen av ett områdes starka länkar som går till andra områden; lågt = stuprör):",
        "Silo index (share of an area's strong links that cross areas; low = silo):"),
    "cli_no_obstacle_groups": ("Inga grupper av liknande hinder.", "No groups of similar obstacles."),
    "cli_obstacle_areas": ("områden: {areas}; sprintar: {sprints}", "areas: {areas}; sprints: {sprints}"),
    "cli_obstacle_label_computed": (
        "{id}: namnet görs av gruppens poster nästa gång den listas ({file}).",
        "{id}: the label will be made from its entries the next time it is listed ({file})."),
    "cli_no_conflicts": ("Inga målkonflikter.", "No goal conflicts."),
    "cli_no_duplicates": ("Inga nästan dubbletter.", "No near-duplicates."),
    "cli_link_rejected": ("{a} ↔ {b} är avvisade som par; de föreslås inte igen ({file}).",
                          "Rejected {a} ↔ {b}; it will not be suggested again ({file})."),
    "cli_link_confirmed": ("{a} → {b} är länkade som {verdict} (related: i {a}; {file}).",
                           "Linked {a} → {b} as {verdict} (related: in {a}; {file})."),
    "cli_verdict_synergy": ("synergi", "synergy"),
    "cli_verdict_conflict": ("målkonflikt", "conflict"),
    "cli_verdict_duplicate": ("dubblett", "duplicate"),
    # kb cities
    "cli_cities_source": ("Vi följer {name} ({organisation}): {lessons}, hämtade {fetched}, licens {licence}",
                          "Following {name} ({organisation}): {lessons}, fetched {fetched}, licence {licence}"),
    "cli_ours": ("hos oss", "ours"),
    # kb roadmap, kb policy, kb actors
    "cli_no_roadmaps": ("Inga färdplaner: lägg till filer roadmaps/<område>.md.", "No roadmaps: add roadmaps/<area>.md files."),
    "cli_roadmap_cited_one": ("{count} post hänvisar till den", "{count} entry cites it"),
    "cli_roadmap_cited": ("{count} poster hänvisar till den", "{count} entries cite it"),
    "cli_roadmap_actions_cited_one": ("{count} post hänvisar till dess åtgärder.", "{count} entry cites its actions."),
    "cli_roadmap_actions_cited": ("{count} poster hänvisar till dess åtgärder.", "{count} entries cite its actions."),
    "cli_roadmap_suggestions": ("Föreslagna kopplingar från andra områden (hänvisar inte till den än):",
                                "Suggested links from other areas (not citing it yet):"),
    "cli_roadmap_holds_none": ("ansvarar inte för någon åtgärd", "holds no action"),
    "cli_actor_row": ("{name}: åtgärder {actions}; poster per område: {areas}",
                      "{name}: actions {actions}; entries per area: {areas}"),
    "cli_actor_gap": ("saknar rådighet", "gap in mandate"),
    "cli_actor_gaps": ("Luckor i rådigheten ({count}): aktörer som hinder beror på men som inte ansvarar för någon "
                       "färdplansåtgärd",
                       "Gaps in mandate ({count}): actors that obstacles depend on who hold no roadmap action"),
    # kb user
    "cli_user_password": ("lösenord", "password"),
    "cli_user_password_again": ("Lösenordet en gång till", "Repeat for confirmation"),
    "cli_user_sign_on": ("enkel inloggning", "sign-on"),
    "cli_user_with_password": ("ett lösenord", "a password"),
    "cli_user_sign_on_only": ("bara enkel inloggning", "sign-on only"),
    "cli_user_shown_as": ("visas som {name}", "shown as {name}"),
    "cli_no_users": ("Inga användare ännu: lägg till en med `kb user add NAMN --role writer`.",
                     "No users yet: add one with `kb user add NAME --role writer`."),
    "cli_user_removed": ("{name} ({role}) är borttagen ur kb.toml [auth].", "Removed {name} ({role}) from kb.toml [auth]."),
    # learning sessions (kb session, the sessions page, kb brief --mark)
    "session_default_title": ("Lärtillfälle {date}", "Learning session {date}"),
    "session_planned": ("planerat", "planned"),
    "sessions_title": ("Lärtillfällen", "Learning sessions"),
    "sessions_intro": (
        "Lärtillfällen som hållits och som planeras. Underlaget räknar det som är nytt från det senaste som "
        "hållits; ett planerat lärtillfälle är nästa lärtillfälle tills dess dag har kommit.",
        "Learning sessions held and planned. The brief counts what is new from the last one held; a planned "
        "session is the next session until its day has come."),
    "sessions_held": ("Hållna", "Held"),
    "sessions_planned": ("Planerade", "Planned"),
    "sessions_next": ("Nästa lärtillfälle: {date}.", "Next learning session: {date}."),
    "sessions_add": ("Registrera ett lärtillfälle", "Record a learning session"),
    "sessions_form_date": ("Datum", "Date"),
    "sessions_form_title": ("Namn (valfritt, t.ex. Lärtillfälle december)",
                            "Title (optional, e.g. Learning session December)"),
    "sessions_added": ("Lärtillfället är registrerat.", "The learning session is recorded."),
    "cli_session_recorded": ("Lärtillfället {date} ({title}) är registrerat i {file}.",
                             "Recorded the learning session of {date} ({title}) in {file}."),
    "cli_session_planned": (
        "Lärtillfället {date} ({title}) är planerat i {file}; det räknas som hållet från den dagen.",
        "Planned the learning session of {date} ({title}) in {file}; it counts as held from that day on."),
    "cli_sessions_none": ("Inga lärtillfällen är registrerade.", "No learning sessions are recorded."),
    "cli_session_removed": ("Lärtillfället {date} ({title}) är borttaget.",
                            "Removed the learning session of {date} ({title})."),
    "digest_title": ("Nytt för {area}", "News for {area}"),
    "digest_intro": ("Lärdomar från andra områden, åtgärder och lärfrågor sedan {since} ({title}, {made}).",
                     "Lessons from other areas, actions and learning questions since {since} ({title}, {made})."),
    "digest_touches_heading": ("Från andra områden, om era färdplansåtgärder",
                               "From other areas, about your roadmap actions"),
    "digest_cites": ("hänvisar till", "cites"),
    "digest_due_heading": ("Åtgärder som snart ska vara klara", "Actions falling due"),
    "digest_questions_heading": ("Nya lärfrågor", "New learning questions"),
    "digest_nothing": ("Inget nytt.", "Nothing new."),

    # --- filters (search, cross-area, policy and brief pages) -----------------------------
    "filter_area": ("Område", "Area"),
    "filter_all_areas": ("Alla områden", "All areas"),
    "filter_type": ("Typ", "Type"),
    "filter_all_types": ("Alla typer", "All types"),
    "filter_since": ("Från", "From"),
    "filter_until": ("Till", "Until"),
    "filter_date_placeholder": ("ÅÅÅÅ-MM-DD", "YYYY-MM-DD"),
    "filter_legend": ("Begränsa sökningen", "Narrow the search"),
    "filter_tags_format": ("med komma emellan", "separated by commas"),
    "filter_show": ("Visa", "Show"),
    "filter_unknown_area": ("Okänt område: {value}", "Unknown area: {value}"),
    "filter_unknown_type": ("Okänd typ: {value}", "Unknown type: {value}"),
    "filter_unknown_source": ("Okänd källa: {value}", "Unknown source: {value}"),
    "filter_source": ("Källa", "Source"),
    "filter_all_sources": ("Alla källor", "All sources"),
    "filter_own_source": ("Egna lärdomar", "Our own lessons"),
    "source_from": ("Från {source}", "From {source}"),
    "followed_note": ("En lärdom från {source}, publicerad öppet av {organisation} och hämtad {date}; "
                      "den ändras eller försvinner när {source} ändrar eller drar tillbaka den.",
                      "A lesson from {source}, published openly by {organisation} and fetched {date}; "
                      "it changes or disappears when {source} changes or withdraws it."),
    "followed_original": ("Originalet", "The original"),
    "followed_actions": ("Validerade åtgärder i {source}", "Validated actions in {source}"),
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
    "field_author": ("Författare", "Author"),
    "field_visibility": ("Synlighet", "Visibility"),
    # who may see an entry, action or question (kb.core.visibility), as pages and the form say it
    "visibility_internal": ("intern", "internal"),
    "visibility_partner": ("partner", "partner"),
    "visibility_public": ("öppen", "public"),
    "visibility_hint": ("Intern: stadens medarbetare. Partner: även projektets partner. "
                        "Öppen: alla, och den öppna publiceringen som andra städer följer.",
                        "Internal: the city's staff. Partner: also the project's partners. "
                        "Public: anyone, and the open publication other cities follow."),
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
    "search_query_hint": ("Svenska eller engelska, t.ex. ”upphandling av laddplatser”.",
                          "Swedish or English, e.g. “procurement of charging points”."),
    "search_count_close": ("{count} träffar, {close} nära frågan", "{count} results, {close} close to the question"),
    "search_match_close": ("Nära frågan", "Close to the question"),
    "search_match_weak": ("Svag träff", "Weak match"),
    "search_order": ("(bäst först)", "(best first)"),
    "search_in_section": ("i avsnittet", "in the section"),
    "search_no_hits": ("Inga poster hittades. Pröva andra ord, eller färre filter.",
                       "No entries found. Try other words, or fewer filters."),
    "search_empty_query": (
        "Skriv en fråga, på svenska eller engelska. Sökningen hittar poster som betyder samma sak "
        "även om orden skiljer sig.",
        "Type a question, in Swedish or English. The search finds entries that mean the same even "
        "when the words differ."),
    "search_json": ("JSON", "JSON"),
    "search_browse": ("Bläddra bland alla poster", "Browse all entries"),
    "search_no_close_match": (
        "Ingen post ligger nära frågan. De närmaste visas här, alla som svaga träffar.",
        "No entry is close to the question. The nearest are shown here, all as weak matches."),
    "search_no_close_only": (
        "Ingen post ligger nära frågan. Utan urvalet ”bara nära träffar” visas de närmaste, som svaga träffar.",
        "No entry is close to the question. Without “close results only” the nearest are shown, as weak matches."),
    "search_show_nearest": ("Visa de närmaste", "Show the nearest"),
    "search_left_out": ("{count} svaga träffar visas inte.", "{count} weak results are not shown."),
    "search_left_out_one": ("1 svag träff visas inte.", "1 weak result is not shown."),
    "search_show_all": ("Visa alla träffar", "Show all results"),
    "search_showing_all": ("Alla träffar visas, också de som inte ligger nära frågan.",
                           "Every result is shown, also those that are not close to the question."),
    "search_bad_close_at": ("Gränsen för en nära träff (close_at) måste vara ett tal: {value}",
                            "The score of a close result (close_at) must be a number: {value}"),
    "search_query_too_long": ("Frågan är för lång (högst {n} tecken).",
                              "The query is too long (at most {n} characters)."),

    # --- entry page -----------------------------------------------------------------------
    "entry_not_found": ("Posten finns inte.", "No such entry."),
    "entry_back_to_search": ("Tillbaka till sökningen", "Back to search"),
    "entry_in_table": ("Visa i tabellen", "Show in the table"),
    "entry_related_heading": ("Relaterade lärdomar", "Related lessons"),
    "entry_related_hint": ("Poster som delar ord, innebörd eller taggar med den här, andra områden först.",
                           "Entries that share words, meaning or tags with this one, other areas first."),
    "entry_related_none_close": (
        "Ingen annan lärdom ligger nära den här ännu. De närmaste visas här, som svaga likheter.",
        "No other lesson is close to this one yet. The nearest are shown here, as weak resemblances."),
    "related_match_close": ("Nära", "Close"),
    "related_match_weak": ("Svag likhet", "Weak resemblance"),
    "entry_no_related": ("Ingen annan post ligger nära den här ännu.", "No other entry is close to this one yet."),
    "entry_confirmed_links": ("Bekräftade kopplingar", "Confirmed links"),
    "entry_cited_by": ("Kopplas ihop med av", "Linked from"),
    "entry_missing": ("finns inte i indexet", "not in the index"),

    # --- Datasette's own pages: metadata and canned queries -------------------------------
    "metadata_entries_title": ("Poster", "Entries"),
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
        "närmaste grannar. En samtalsledare bekräftar eller avvisar dem vid lärtillfällena.",
        "Pairs of entries from different areas that carry the same lesson. Suggestions are built from "
        "each entry's own nearest neighbours. A facilitator confirms or rejects them at the learning "
        "sessions."),
    "synergies_strength": ("Styrka {value}", "Strength {value}"),
    "synergies_strength_hint": (
        "Styrkan jämför parets likhet med hur lika posterna brukar vara sina närmaste grannar: ju högre, "
        "desto tydligare samma lärdom.",
        "The strength compares the pair's likeness with how alike entries usually are to their nearest "
        "neighbours: the higher, the clearer the same lesson."),
    "synergies_matrix_caption": (
        "Antal starka länkar mellan områdena (ömsesidiga närmaste grannar, bekräftade inräknade). Raden "
        "är ett område, kolumnen det andra; diagonalen är länkar inom området.",
        "Number of strong links between the areas (mutual nearest neighbours, confirmed ones included). "
        "The row is one area, the column the other; the diagonal is links within the area."),
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
    "reason_confirmed": ("bekräftad av en samordnare", "confirmed by a facilitator"),
    "reason_confirmed_note": ("bekräftad av en samordnare: {note}", "confirmed by a facilitator: {note}"),
    "reason_section_match": ("avsnittet ”{section_a}” ({area_a}) motsvarar ”{section_b}” ({area_b})",
                             "section “{section_a}” ({area_a}) matches “{section_b}” ({area_b})"),
    "reason_mutual_best": ("varandras bästa träff i ett annat område", "each other's best match in another area"),
    "reason_mutual_top": ("bland varandras {k} bästa träffar i andra områden (plats {rank_a} och {rank_b})",
                          "among each other's {k} best matches in other areas (places {rank_a} and {rank_b})"),
    "reason_city_rank": ("plats {rank} bland de närmaste av alla lärdomar, egna och andra städers",
                         "place {rank} among the nearest of all lessons, ours and other cities'"),
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
    "policy_md_count_one": ("1 post pekar på styrmedel som behöver ändras.",
                            "1 entry points to policy instruments that need to change."),
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
    "capture_choose": ("Välj …", "Choose …"),
    "capture_sprint_format": ("tomt blir {sprint}", "empty means {sprint}"),
    "capture_roadmap_format": ("åtgärdernas id med komma emellan, t.ex. MOB-2",
                               "the actions' ids separated by commas, e.g. MOB-2"),
    "capture_markdown_hint": (
        "Skriv fritt. En tom rad börjar ett nytt stycke, en rad som börjar med ”- ” blir en punkt i en "
        "lista, och **fet** eller *kursiv* text fungerar.",
        "Write freely. An empty line starts a new paragraph, a line starting with “- ” becomes an item "
        "in a list, and **bold** or *italic* text works."),
    "capture_preview_hint": ("Så här ser posten ut när den är sparad. Knappen Förhandsgranska visar "
                             "också liknande lärdomar från andra områden.",
                             "This is how the entry will look once saved. The Preview button also shows "
                             "similar lessons from other areas."),
    "capture_new_window": ("(öppnas i en ny flik)", "(opens in a new tab)"),
    "capture_preview_button": ("Förhandsgranska", "Preview"),
    "capture_save_button": ("Spara", "Save"),
    "capture_preview_heading": ("Förhandsvisning", "Preview"),
    "capture_similar_heading": ("Liknande lärdomar, andra områden först",
                                "Similar lessons, other areas first"),
    "capture_similar_none_close": (
        "Ingen lärdom ligger nära utkastet. De närmaste visas här, som svaga likheter.",
        "No lesson is close to the draft. The nearest are shown here, as weak resemblances."),
    "capture_similar_none": ("Inga liknande lärdomar hittades.", "No similar lessons found."),
    "capture_duplicate_warning": (
        "Det här liknar mycket en lärdom som redan finns: {title}. Lägg hellre till i den, eller spara "
        "om de skiljer sig.",
        "This is very close to a lesson that already exists: {title}. Consider adding to it instead, "
        "or save if they differ."),
    "capture_person_names": (
        "Texten nämner {names}, som ser ut som en privatpersons namn. Skriv hellre rollen (t.ex. "
        "”projektledaren på gatukontoret”): namn är personuppgifter som sprids till sökindex, underlag "
        "och exporter.",
        "The text names {names}, which looks like a private person's name. Write the role instead "
        "(e.g. “the project manager at the streets department”): names are personal data that spread "
        "into the search index, briefs and exports."),
    "capture_identity_numbers": (
        "Texten innehåller {numbers}, som ser ut som ett personnummer. Ta bort det: en lärdom behöver "
        "aldrig ett personnummer, och det sprids annars till sökindex, underlag och exporter.",
        "The text holds {numbers}, which looks like a Swedish personal identity number. Remove it: a "
        "lesson never needs one, and it would spread into the search index, briefs and exports."),
    "capture_fix_errors": ("Rätta fälten nedan; inget har sparats.",
                           "Fix the fields below; nothing was saved."),
    "capture_signed_in_as": ("Inloggad som {name}", "Signed in as {name}"),
    "capture_sign_out": ("Logga ut", "Sign out"),
    "capture_login_title": ("Logga in", "Sign in"),
    "capture_login_intro": (
        "Alla kan läsa. Logga in för att logga reflektioner (skribent) eller för att hålla i åtgärder, "
        "lärfrågor och lärtillfällen (samordnare); sedan kommer du tillbaka till sidan du var på.",
        "Everyone can read. Sign in to log reflections (writer) or to keep actions, learning questions "
        "and learning sessions (facilitator); then you come back to the page you were on."),
    "capture_already_signed_in": ("Du är redan inloggad som {name} med rollen {role}.",
                                  "You are already signed in as {name}, with the role {role}."),
    "capture_user": ("Användarnamn", "User name"),
    "capture_password": ("Lösenord", "Password"),
    "capture_sign_in": ("Logga in", "Sign in"),
    "capture_bad_login": ("Fel användarnamn eller lösenord.", "Wrong user name or password."),
    "capture_too_many": ("För många misslyckade inloggningar. Försök igen om {minutes} min.",
                         "Too many failed sign-ins. Try again in {minutes} min."),
    "capture_no_writers": ("Inga konton finns ännu; den som sköter tjänsten lägger till dem (kb user add).",
                           "No accounts exist yet; whoever runs the service adds them (kb user add)."),
    "capture_proxy_sign_on": ("Med organisationens konto är du inloggad redan när du öppnar sidan.",
                              "With your organisation's account you are signed in as soon as you open the page."),
    "signin_form_expired": ("Formuläret har gått ut eller kom från en annan webbplats. Ladda om sidan och försök igen.",
                            "The form has expired or came from another site. Reload the page and try again."),
    "capture_forbidden": ("Du behöver logga in som skribent för att logga en reflektion.",
                          "You need to sign in as a writer to log a reflection."),
    "capture_too_large": ("Formuläret är för stort.", "The form is too large."),
    "capture_saved": ("Sparad: ”{title}”. Här är liknande lärdomar.",
                      "Saved: “{title}”. Here are similar lessons."),
    "capture_saved_unindexed": (
        "Sparad, men sökindexet kunde inte uppdateras. Posten syns i sökningen när den som driver "
        "tjänsten har uppdaterat indexet.",
        "Saved, but the search index could not be updated. The entry shows up in search once whoever "
        "runs the service has updated the index."),
    # the checks of each field of a draft
    "capture_check_title_missing": ("Skriv en rubrik.", "Give a title."),
    "capture_check_title_too_long": ("Rubriken är för lång (högst {max} tecken).",
                                     "The title is too long (at most {max} characters)."),
    "capture_check_area": ("Välj ett område: {areas}.", "Choose an area: {areas}."),
    "capture_check_type": ("Välj en typ: {types}.", "Choose a type: {types}."),
    "capture_check_date_missing": ("Ange datum (ÅÅÅÅ-MM-DD).", "Give a date (YYYY-MM-DD)."),
    "capture_check_date_bad": ("Ogiltigt datum {value}: skriv ÅÅÅÅ-MM-DD.",
                               "Bad date {value}: write YYYY-MM-DD."),
    "capture_check_visibility": ("Okänd synlighet {value}: välj intern, partner eller öppen.",
                                 "Unknown visibility {value}: choose internal, partner or public."),
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
    "brief_form_since_last": ("Sedan förra lärtillfället ({date}, {title})",
                              "Since the last learning session ({date}, {title})"),
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
        "Poster från olika områden som bär samma lärdom. Bekräftade först, sedan förslag att bekräfta "
        "eller avvisa vid lärtillfället.",
        "Entries from different areas that carry the same lesson. Confirmed first, then suggestions to "
        "confirm or reject at the learning session."),
    "brief_conflicts_heading": ("Målkonflikter att diskutera", "Goal conflicts to discuss"),
    "brief_touches": ("berör", "touches"),
    "brief_new_heading": ("Nytt sedan förra lärtillfället", "New since the last learning session"),
    "brief_new_none_before": (
        "Inget tidigare lärtillfälle är registrerat; när det här har hållits visar nästa underlag det som "
        "tillkommit efter det.",
        "No earlier learning session is recorded; once this one is held, the next brief shows what was "
        "added after it."),
    "brief_new_nothing": ("Inga nya poster sedan {date}.", "No new entries since {date}."),
    "brief_questions_heading": ("Frågor att diskutera", "Questions for discussion"),
    "brief_follow_up_heading": ("Åtgärder att följa upp", "Actions to follow up"),
    "brief_follow_up_intro": (
        "Försenade åtgärder och åtgärder som ska vara klara före nästa lärtillfälle ({date}).",
        "Overdue actions and actions due before the next learning session ({date})."),
    "brief_follow_up_nothing": ("Inga åtgärder att följa upp.", "No actions to follow up."),
    "brief_agenda_heading": ("Öppna lärfrågor", "Open learning questions"),
    "brief_agenda_nothing": ("Inga öppna lärfrågor.", "No open learning questions."),
    "brief_validated_heading": ("Validerat sedan sist", "Validated since last time"),
    "brief_validated_nothing": ("Inga åtgärder har validerats sedan {date}.",
                                "No action was validated since {date}."),
    "brief_validated_none_yet": ("Inga åtgärder har validerats ännu.", "No action has been validated yet."),
    "brief_recurred_intro": (
        "Validerade åtgärder vars hinder kom tillbaka i perioden: en ny hinderpost gick med i åtgärdens "
        "hindergrupp eller ligger nära dess lärdomar.",
        "Validated actions whose obstacle came back in the period: a new obstacle entry joined the action's "
        "obstacle group or lies close to its lessons."),
    "brief_recurred_counts": (
        "Av {n} validerade åtgärder har {held} hållit och {recurred} fått sitt hinder tillbaka, {in_period} av "
        "dem i perioden.",
        "Of {n} validated actions, {held} held and {recurred} saw their obstacle come back, {in_period} of them "
        "in the period."),
    "brief_recurred_nothing": ("Inget hinder för en validerad åtgärd har kommit tillbaka i perioden.",
                               "No obstacle of a validated action came back in the period."),
    # brief_figure_ + a picture name: the caption of a picture in the brief
    "brief_figure_map": ("Karta över lärdomar", "Map of lessons"),
    "brief_figure_network": ("Områden som delar lärdomar", "Areas that share lessons"),
    "brief_figure_timeline": ("Hinder över tid", "Obstacles over time"),
    "brief_appendix_heading": ("Bilaga: karta över alla lärdomar", "Appendix: a map of all lessons"),
    "brief_appendix_intro": (
        "För den som vill se helheten: varje punkt är en post, och poster som handlar om samma sak ligger "
        "nära varandra. Avstånden är ungefärliga; hindergrupperna ovan är numrerade H1, H2 …",
        "For those who want the whole picture: each dot is an entry, and entries about the same thing lie "
        "close together. Distances are approximate; the obstacle groups above are numbered H1, H2 …"),
    "brief_new_mark": ("ny i perioden", "new in the period"),
    "brief_obstacles_intro_since": (
        "Hinder som mötts igen i perioden: grupper av poster om samma hinder där minst en är ny sedan "
        "{since}, med de tidigare fallen. Mest spridda först.",
        "Obstacles met again in the period: groups of entries about the same obstacle of which at least one "
        "is new since {since}, with the earlier cases. Most widespread first."),
    # discussion questions, filled in with what the brief found (no language model)
    "brief_question_obstacle": (
        "Hindret {obstacle} har mötts i {n_areas} områden ({areas}) mellan {first} och {last}. Vem har "
        "rådigheten att undanröja det, och behöver det lyftas som en fråga om styrmedel?",
        "The obstacle {obstacle} was met in {n_areas} areas ({areas}) between {first} and {last}. Who "
        "holds the mandate to remove it, and does it need a change in policy instruments?"),
    "brief_question_obstacle_one_area": (
        "Hindret {obstacle} har kommit tillbaka {count} gånger i {areas}. Varför löser det sig inte inom "
        "området, och vem utanför behöver vara med?",
        "The obstacle {obstacle} came back {count} times in {areas}. Why is it not solved within the "
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
    "brief_question_new_one": (
        "1 ny post sedan förra lärtillfället. Borde alla områden känna till den?",
        "1 new entry since the last learning session. Should every area know about it?"),
    "brief_question_overdue": (
        "Åtgärden ”{title}” ({owner}) skulle ha varit klar {due}. Vad behövs för att den ska bli klar, "
        "eller ska den avskrivas?",
        "The action “{title}” ({owner}) was due {due}. What does it need to be finished, or should it "
        "be dropped?"),
    "brief_question_own_session": (
        "Lärfrågan ”{question}” har stått öppen i {sessions} lärtillfällen. Ska den få ett eget "
        "lärtillfälle?",
        "The learning question “{question}” has been open for {sessions} learning sessions. Should it "
        "get a session of its own?"),
    "brief_question_recurred": (
        "Åtgärden ”{title}” validerades {date}, men hindret kom tillbaka ({area}, {entry_date}). "
        "Höll inte förbättringen, eller är det ett annat hinder?",
        "The action “{title}” was validated on {date}, but the obstacle came back ({area}, {entry_date}). "
        "Did the improvement not hold, or is it another obstacle?"),
    "brief_question_no_action": (
        "Hindret {obstacle} återkommer, men ingen åtgärd är beslutad. Vem har rådigheten att agera?",
        "The obstacle {obstacle} recurs, but no action has been decided. Who holds the mandate to act?"),
    "brief_question_fallback": ("Vilken lärdom från perioden borde bli en ny rutin eller policy?",
                                "Which lesson from this period should become a new routine or policy?"),

    # --- pictures (network, timeline, map) -------------------------------------------------
    # picture_ + a picture name: its title
    "picture_map": ("Karta över lärdomar", "Map of lessons"),
    "picture_network": ("Vilka områden delar lärdomar", "Which areas share lessons"),
    "picture_network_subtitle": (
        "En linje mellan två områden: de har lärdomar som liknar varandra. Siffran är antalet sådana par, "
        "och ju fler, desto tjockare linje.",
        "A line between two areas: they have lessons alike. The number counts such pairs; the more, the "
        "thicker the line."),
    "picture_timeline": ("Återkommande hinder över tid", "Recurring obstacles over time"),
    "picture_map_subtitle": (
        "Varje punkt är en post; poster nära varandra handlar om samma sak",
        "Each dot is an entry; entries close together are about the same thing"),
    "picture_map_obstacle": ("hinder", "obstacle"),
    "picture_map_other": ("lärdom, möjliggörare, idé, målkonflikt", "lesson, enabler, idea, goal conflict"),
    "picture_map_outside": ("utanför urvalet", "outside the selection"),
    "picture_timeline_period": ("perioden", "the period"),
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
    "report_obstacles": ("Återkommande hinder", "Recurring obstacles"),
    "report_obstacles_note": (
        "Grupper av poster som beskriver samma hinder under året, med gruppens bestående id.",
        "Groups of entries that describe the same obstacle during the year, with the group's lasting id."),
    "report_obstacle_areas": ("möttes i {areas}", "met in {areas}"),
    "report_loop": ("Från lärdom till åtgärd", "From lesson to action"),
    "report_loop_note": (
        "Åtgärder som under året följde upp områdets lärdomar, och vad de ändrade.",
        "Actions that followed up the area's lessons during the year, and what they changed."),
    "report_changed": ("ändrade {what}", "changed {what}"),
    # outcome_ + an outcome id: what acting on a lesson changed
    "outcome_roadmap": ("färdplanen", "the roadmap"),
    "outcome_routine": ("en rutin", "a routine"),
    "outcome_policy": ("en policy", "a policy"),
    "report_figures": ("Lärloopen i siffror", "The learning loop in figures"),
    "report_figure_share": ("Hinder med en åtgärd: {n} av {total} ({share})",
                            "Obstacles with an action: {n} of {total} ({share})"),
    "report_figure_days": ("Mediantid från lärdom till beslutad åtgärd: {days} dagar",
                           "Median time from a lesson to a decided action: {days} days"),
    "report_figure_overdue": ("Försenade åtgärder: {n}", "Overdue actions: {n}"),
    "report_figure_validated": ("Validerade åtgärder: {n}", "Validated actions: {n}"),
    "report_figure_validated_recurred": (
        "Validerade åtgärder: {n}, varav {held} höll och {recurred} fick sitt hinder tillbaka",
        "Validated actions: {n}, of which {held} held and {recurred} saw their obstacle come back"),
    "report_actor": ("rådighet", "mandate"),
    "report_sharing": ("Mest angelägna erfarenheter att dela", "Most pressing experiences to share"),
    "report_sharing_note": ("Validerade åtgärder med de öppna lärdomar de följde upp, de mest spridda över "
                            "områdena först: underlag till Klimatkontrakt 2030:s avsnitt om erfarenheter att dela. "
                            "Bara det som är öppet tas med.",
                            "Validated actions with the public lessons they followed up, those spread over the "
                            "most areas first: input to Klimatkontrakt 2030's section on experiences to share. "
                            "Only what is public is included."),
    "report_sharing_none": ("Inga öppna, validerade åtgärder {year}.", "No public validated actions in {year}."),
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


def counted(words, count: int, one: str, many: str, **params) -> str:
    """The text of ``count``, singular or plural (``1 post``, ``2 poster``): ``words`` is a
    language's texts (:func:`texts`), ``one`` and ``many`` the keys of the two forms."""
    return words[one if count == 1 else many].format(count=count, **params)


AREA_PARAMETERS = ("area", "areas", "area_a", "area_b")  # slugs, shown as the areas' names


def parameter_text(name: str, value, area_names: Mapping[str, str] | None = None):
    """A message parameter as it is shown: an area slug as the area's name (a list of slugs
    as names joined; a slug -> count mapping as ``name (count)``), a list joined by commas."""
    names = area_names or {}
    if name in AREA_PARAMETERS:
        if isinstance(value, Mapping):
            return ", ".join(f"{names.get(k, k)} ({v})" for k, v in value.items())
        if isinstance(value, list | tuple):
            return ", ".join(names.get(v, v) for v in value)
        return names.get(value, value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


@dataclass
class Message:
    """A text to show later, in the reader's language: a key and its parameters. Lets the
    code that finds something stay silent about language (capture's field checks, the
    reasons of a goal conflict). Area parameters hold slugs (see :func:`parameter_text`)."""

    key: str
    params: dict = field(default_factory=dict)

    def render(self, lang: str | None, area_names: Mapping[str, str] | None = None) -> str:
        shown = {name: parameter_text(name, value, area_names) for name, value in self.params.items()}
        return text(self.key, lang, **shown)
