"""Sync now and Apply schedule on the selected rows of the Schools page, answered per row.

Which schools a form may name: the rows the page showed (their ids travel signed in the form, so
an id nobody was shown is a forgery, and the whole request is refused with nothing done), or
"every school in this list", resolved again here. Of those, a school deleted since the page
loaded, or whose admin the person no longer is, gets its reason in its row; the rest are done.
"""
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.request_input import LARGEST_ID, whole_number
from webapp.trust import listing

MAX_SCHOOLS = 500
REFUSED_FORGED = ("Nothing was done: the selection named a school that is not in your list. "
                  "Reload the page and select the schools again.")
REFUSED_STALE_FORM = ("Nothing was done: this page was out of date. Reload the page and select "
                      "the schools again.")
NOTHING_SELECTED = "Select at least one school first (tick its box). Nothing was done."
NONE_IN_LIST = ("Nothing was done: no school is in this list any more (their statuses have changed "
                "since the page loaded). Reload the page to see the list as it is now.")
TOO_MANY = (f"Not done: more than {MAX_SCHOOLS} schools were selected and at most {MAX_SCHOOLS} "
            "are done at a time. Select the rest and press the button again.")
DELETED = "Not done: this school no longer exists."
NO_LONGER_ADMIN = "Not done: you are no longer an admin of this school."


class Refused(Exception):
    """The whole request is refused and nothing was done; str() says why."""


@dataclass
class RowResult:
    done: bool
    text: str


@dataclass
class Outcome:
    action: str                         # "Sync now" or "Apply schedule"
    results: dict = field(default_factory=dict)   # organisation id -> RowResult
    names: dict = field(default_factory=dict)     # organisation id -> name, for the summary

    @property
    def done_count(self):
        return sum(1 for result in self.results.values() if result.done)

    @property
    def not_done(self):
        """(name, reason) of every school not done, for the summary above the table."""
        return [(self.names.get(school_id, f"School {school_id}"), result.text)
                for school_id, result in self.results.items() if not result.done]


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="trust-schools-shown")


def shown_token(rows):
    """The rows on the page (id and name), signed: the only ids the form may name, and the
    names to answer with even for a school deleted since."""
    return _serializer().dumps([[row.id, row.name] for row in rows])


def chosen_ids(form, view, rows):
    """The selected school ids in table order (at most MAX_SCHOOLS), the results of the rest,
    and the names the page showed; raises Refused for a forged or unreadable form, or an
    empty selection."""
    every_school = form.get("all_matching") == "1"
    if every_school:
        ids, shown_names = _every_school_in_the_list(form, view, rows)
    else:
        ids, shown_names = _posted_ids(form)
    if not ids:
        raise Refused(NONE_IN_LIST if every_school else NOTHING_SELECTED)
    results = {school_id: RowResult(False, TOO_MANY) for school_id in ids[MAX_SCHOOLS:]}
    return ids[:MAX_SCHOOLS], results, shown_names


def shown_on_page(form):
    """{id: name} of the rows the posting page showed, or None if the list is not ours."""
    try:
        return {school_id: name for school_id, name in _serializer().loads(form.get("shown", ""))}
    except (BadSignature, TypeError, ValueError):
        return None


def _every_school_in_the_list(form, view, rows):
    """The list's ids, resolved again; refused as a ticked selection is for a form that is not
    the page's, and for a refused search (which would otherwise match every school)."""
    shown = _shown_or_refused(form)
    if view.search.error:
        raise Refused(f"{view.search.error} Nothing was done.")
    return [row.id for row in listing.matching(view, rows)], shown


def _shown_or_refused(form):
    shown = shown_on_page(form)
    if shown is None:
        raise Refused(REFUSED_STALE_FORM)
    return shown


def _posted_ids(form):
    shown = _shown_or_refused(form)
    ids = list(dict.fromkeys(posted_ids(form)))
    if any(school_id not in shown for school_id in ids):
        raise Refused(REFUSED_FORGED)
    return ids, shown


def posted_ids(form):
    """The ticked ids as sent; an unreadable one is None (no school has it: a forgery)."""
    return [whole_number(text, 1, LARGEST_ID) for text in form.getlist("school")]


def gone_results(ids, rows_by_id):
    """A reason for each selected school the person no longer administers."""
    gone = [school_id for school_id in ids if school_id not in rows_by_id]
    if not gone:
        return {}
    existing = set(db.session.scalars(select(Organisation.id).where(Organisation.id.in_(gone))))
    return {school_id: RowResult(False, NO_LONGER_ADMIN if school_id in existing else DELETED)
            for school_id in gone}
