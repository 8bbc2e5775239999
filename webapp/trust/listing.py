"""Which rows the Schools page shows: filter, search, sort and page, all from the address.

The rows of one admin are at most a few thousand and each one's status comes from Python rules,
so filtering and sorting happen here over the rows overview.school_rows read in its fixed
number of queries.
"""
from dataclasses import dataclass
from operator import itemgetter

from webapp.clock import as_utc
from webapp.listing import Page, page_within
from webapp.request_input import page_number
from webapp.search import Search, search_from
from webapp.trust import overview
from webapp.trust import status as st

PER_PAGE = 50
ATTENTION, ALL = "attention", "all"
SORT_LABELS = {"name": "School", "connection": "Connection", "groups": "Groups",
               "last_sync": "Last successful sync", "next_sync": "Next automatic sync",
               "people": "Active people", "status": "Status"}


def _last_sync(row):
    finished = row.facts.last_sync_at
    return as_utc(finished) if finished else None


def _connection(row):
    """Schools that cannot sync first (in the status order), then by the account used."""
    blocked = st.BLOCKING_STATES.get(row.state)
    return (st.ORDER.index(blocked) if blocked else len(st.ORDER),
            (row.connection.account_email if row.connection else "").casefold())


# What a sort reads that the rows do not carry until asked (only shown rows have it otherwise).
SORT_NEEDS = {"groups": overview.add_selections, "people": overview.add_active_people}
SORT_KEYS = {
    "name": lambda row: row.name.casefold(),
    "connection": _connection,
    "groups": lambda row: row.groups_text.casefold() or None,
    "last_sync": _last_sync,
    "next_sync": lambda row: row.next_sync.at,
    "people": lambda row: row.active_people,
    "status": lambda row: st.ORDER.index(row.status),
}


@dataclass(frozen=True)
class View:
    search: Search
    status: str      # ATTENTION, ALL or one status code
    sort: str
    descending: bool
    page: int
    status_chosen: bool  # False: the default (Needs attention when anything needs it)

    def address(self, **changes):
        """The view's address arguments, defaults left out (url_for(..., **view.address()))."""
        values = {"q": self.search.typed, "status": self.status if self.status_chosen else "",
                  "sort": self.sort, "dir": "desc" if self.descending else "",
                  "page": self.page}
        values.update(changes)
        defaults = {"q": "", "status": "", "sort": "name", "dir": "", "page": 1}
        return {name: value for name, value in values.items()
                if value not in (None, "") and value != defaults[name]}


def view_from(args, rows):
    status, chosen = args.get("status", ""), True
    if status not in (ATTENTION, ALL) + st.ORDER:
        status = ATTENTION if any(row.needs_attention for row in rows) else ALL
        chosen = False
    sort = args.get("sort", "name")
    return View(search=search_from(args), status=status,
                sort=sort if sort in SORT_KEYS else "name", descending=args.get("dir") == "desc",
                page=page_number(args), status_chosen=chosen)


def matching(view, rows, keep=()):
    """The rows the filter and search keep, in the view's order. keep: ids shown whatever the
    filter says (the rows an action just answered, which may no longer need attention)."""
    text = view.search.text.casefold()
    kept = [row for row in rows if row.id in keep or (
        (view.status == ALL or (view.status == ATTENTION and row.needs_attention)
         or row.status == view.status) and (not text or text in row.name.casefold()))]
    return ordered(kept, view.sort, view.descending)


def ordered(rows, sort, descending):
    """Sorted by the column, then by name; rows without a value (never synced, no next sync)
    come last either way. The page, the CSV and "every school in this list" all sort here."""
    if sort in SORT_NEEDS:
        SORT_NEEDS[sort](rows)
    key = SORT_KEYS[sort]
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.id))
    keyed = [(key(row), row) for row in by_name]  # each row's value worked out once
    present = sorted((pair for pair in keyed if pair[0] is not None), key=itemgetter(0),
                     reverse=descending)
    return [row for _, row in present] + [row for value, row in keyed if value is None]


def page_of(view, rows, keep=()):
    kept = matching(view, rows, keep)
    page = page_within(view.page, len(kept), PER_PAGE)
    return Page(items=kept[(page - 1) * PER_PAGE:page * PER_PAGE], page=page, per_page=PER_PAGE,
                total=len(kept))


def status_counts(rows):
    """{status: schools} in ORDER, only statuses some school has."""
    counts = {status: 0 for status in st.ORDER}
    for row in rows:
        counts[row.status] += 1
    return {status: number for status, number in counts.items() if number}
