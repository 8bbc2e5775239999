"""Template filters for the user sync pages: numbers, durations, outcomes and reasons.
(Dates and times: the app-wide `when` filter of webapp.dates.)"""
from flask import g, url_for
from markupsafe import Markup, escape

from webapp.htmx import page_path
from webapp.microsoft.selection import selection_sentence, unsaved_preview
from webapp.user_sync import history, reasons


def thousands(number):
    return f"{number or 0:,}"


def duration(seconds):
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def counts_text(run):
    parts = [("added", run.added), ("updated", run.updated), ("suspended", run.suspended),
             ("reinstated", run.reinstated), ("skipped", run.skipped),
             ("unchanged", run.unchanged)]
    return ", ".join(f"{count:,} {label}" for label, count in parts)


# The places a stored reason sends the admin to, linked where the reason is shown.
PLACES = {"Import settings": "microsoft.import_microsoft", "Troubleshooting": "troubleshooting.index"}


def with_links(text):
    """A run's stored reason (plain text) as HTML, its first mention of each place a link."""
    html = str(escape(text or ""))
    for place, endpoint in PLACES.items():
        html = html.replace(place, f'<a href="{escape(url_for(endpoint))}">{place}</a>', 1)
    return Markup(html)
def email_breaks(email):
    """An email that may also wrap after its @ (a table cell is narrower than a school's long
    addresses), not only after a hyphen, and never inside a word."""
    return Markup("@<wbr>").join(escape(part) for part in (email or "").split("@"))


def day_then_time(shown):
    """A moment as `when` shows it ("6 Dec 2026, 23:22 GMT"), able to wrap after its comma
    only: the day in a span the stylesheet keeps whole (the time is short enough already)."""
    day, comma, time = (shown or "").partition(", ")
    if not comma:
        return escape(shown)
    return Markup("<span>%s,</span> %s") % (day, time)


def register(blueprint):
    for name, function in {"thousands": thousands, "duration": duration,
                           "counts_text": counts_text, "email_breaks": email_breaks,
                           "day_then_time": day_then_time, "outcome": reasons.outcome,
                           "reason": reasons.reason_text, "action_label": reasons.action_label,
                           "status_reason": reasons.status_reason,
                           "fields_text": reasons.changed_fields_text,
                           "started_by": history.started_by_text,
                           "run_title": reasons.run_title, "with_links": with_links}.items():
        blueprint.add_app_template_filter(function, name)
    blueprint.add_app_template_global(history.review_suspensions, "review_suspensions")
    blueprint.add_app_template_global(history.undo_refusal, "undo_refusal")
    blueprint.add_app_template_global(page_path, "page_path")
    blueprint.add_app_template_global(lambda run: unsaved_preview(run, g.organisation),
                                      "unsaved_preview")
    blueprint.add_app_template_global(selection_sentence, "selection_sentence")
    blueprint.add_app_template_filter(reasons.activity, "activity")
    blueprint.add_app_template_filter(reasons.progress_label, "progress_label")
