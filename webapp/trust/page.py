"""What the Schools page's templates need, for the first render, every swap and every answer
to an action (templates/trust/schools.html includes _schools.html, which includes the rows)."""
from dataclasses import replace

from flask import g, request

from webapp.dates import format_moment
from webapp.schedule_words import FREQUENCY_LABELS
from webapp.schedule.services import REASON_WORDS
from webapp.zones import choosable_zones, organisation_zone
from webapp.trust import actions, listing, overview
from webapp.trust import status as st

STATUS_CLASSES = {st.OK: "status-active", st.FAILING: "status-failed", st.RECONNECT: "status-failed",
                  st.STALE: "status-failed"}


def page_context(rows, view, selected=(), schedule_form=None, keep=(), **answer):
    """answer: outcome (actions.Outcome), refused (a sentence), schedule_errors ({field: text});
    keep: ids of rows to show whatever the filter (an action answers in the rows it was given)."""
    page = None if view.search.error else listing.page_of(view, rows, keep)
    overview.add_shown_details(page.items if page else [])
    if page:  # the page shown (an old link's page 9 of 2 shows page 2), in every address made
        view = replace(view, page=page.page)
    return dict(
        rows_page=page, view=view, total=len(rows),
        attention=sum(1 for row in rows if row.needs_attention),
        counts=listing.status_counts(rows), count_words=st.COUNT_WORDS,
        filter_choices=filter_choices(), sort_labels=listing.SORT_LABELS,
        shown=actions.shown_token(page.items if page else []),
        all_matching=request.form.get("all_matching") == "1", max_schools=actions.MAX_SCHOOLS,
        refused=answer.get("refused"),
        schedule_errors=answer.get("schedule_errors") or {},
        schedule_form=schedule_form or default_schedule_form(),
        frequency_labels=FREQUENCY_LABELS, time_zones=choosable_zones(),
        **row_context(selected, answer.get("outcome")))


def row_context(selected=(), outcome=None):
    """What templates/trust/_school_row.html needs beyond the row (also when it polls alone)."""
    return dict(reason_words=REASON_WORDS, status_classes=STATUS_CLASSES,
                describe=lambda row: st.status_words(row, format_moment),
                selected=set(selected), outcome=outcome)


def filter_choices():
    """The Show list: Needs attention, All schools, then each status."""
    return [(listing.ATTENTION, "Needs attention"), (listing.ALL, "All schools")] + [
        (code, st.COUNT_WORDS[code][:1].upper() + st.COUNT_WORDS[code][1:]) for code in st.ORDER]


def default_schedule_form():
    return {"frequency": "daily", "time_of_day": "02:00",
            "time_zone": organisation_zone(g.organisation.time_zone).key}


def schedule_form_from(form):
    """The Apply schedule fields as posted (a refused form comes back as it was left); a choice
    not in its list (a forged post) shows the form's default, never the list's first entry."""
    if "frequency" not in form:
        return None
    default = default_schedule_form()
    frequency, zone = form.get("frequency", ""), form.get("time_zone", "")
    return {"frequency": frequency if frequency in FREQUENCY_LABELS else default["frequency"],
            "time_of_day": form.get("time_of_day", ""),
            "time_zone": zone if zone in choosable_zones() else default["time_zone"]}
