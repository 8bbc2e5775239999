"""The Schools page's rows: every school an admin administers, its sync at a glance.

A fixed number of statements however many schools (tests/trust/test_overview.py counts them):
the ids of the schools the account administers (none in a request: orgs.context has them); one
statement for the schools with their schedules, the 48-hour rule, whether they have a synced
group, and their stored run facts (engine.fleet.with_run_facts);
their connections; and, for the rows shown (add_shown_details), their runs with the one holding
the sync slot, their groups and the active people (Redis-cached counts; one more query only for
schools not cached). A sort reads what it sorts by for every row (listing.SORT_NEEDS).
Each step reads only what it needs: over hundreds of schools every value read per school shows
in the page's time.
Each row's words come from the product's own rules, never a copy of them: the Manage user sync
card's connection_state, the Automatic sync card's next_sync_of, schedule.health's 48-hour
rule, engine.fleet's review, active run and failing facts (queries.py's rules for many schools).
"""
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.microsoft import app_credentials
from webapp.microsoft.models import CONNECTED, RECONNECT_NEEDED, connections_of
from webapp.microsoft.selection import (NOT_CONNECTED, STATE_LABELS, connection_state,
                                        has_synced_group_of, saved_selections)
from webapp.orgs.models import Organisation, Trust
from webapp.orgs.services import administered_ids
from webapp.schedule import due
from webapp.schedule.health import no_recent_success
from webapp.schedule.models import SyncSchedule
from webapp.schedule.services import next_sync_of
from webapp.sql_lists import one_of
from webapp.trust import status as st
from webapp.user_sync.engine.fleet import RunFacts, load_runs, run_facts_from, with_run_facts
from webapp.user_sync.people import active_people_of
from webapp.user_sync.summary import SyncState


class SelectionNotLoaded(RuntimeError):
    """A row's groups were asked for before add_selections: a caller forgot a step."""


@dataclass
class SchoolRow(SyncState):
    id: int
    name: str
    time_zone: str  # dates in a row are in the school's own zone (webapp.dates.zone_for)
    trust_name: str
    connection: object
    has_synced_group: bool
    facts: RunFacts
    stale: bool
    loaded_selection: object = None  # filled by add_selections for the rows that need it
    active_people: int = None  # filled by add_shown_details for the rows that show it
    state: str = ""
    status: str = ""
    schedule: object = None  # the schools query's row: its schedule's columns
    platform_paused: bool = False

    @property
    def selection(self):
        """The saved groups (microsoft.selection.Selection), once add_selections has read them."""
        if self.loaded_selection is None:
            raise SelectionNotLoaded("add_selections(...) before reading a row's groups")
        return self.loaded_selection

    @cached_property
    def next_sync(self):
        """Worked out only for the rows that show it (or sort by it), not for every school."""
        return next_sync_of(self.schedule, self.time_zone, self.connection,
                            self.has_synced_group, self.facts.review_id is not None,
                            self.platform_paused)

    @property
    def connection_label(self):
        """The connection's own state (the Connection column): whose it is comes separately."""
        if self.connection is None:
            return STATE_LABELS[NOT_CONNECTED]
        return STATE_LABELS[RECONNECT_NEEDED if self.connection.needs_reconnect else CONNECTED]

    @property
    def needs_attention(self):
        return st.needs_attention(self.status)


def school_rows(user_id, now, only=None, administered=None):
    """Every school the account is an active admin of, as SchoolRows (in no particular order:
    listing.ordered sorts them); only: just that school, if the account administers it (one
    row refreshing itself); administered: their ids if already read (the request's
    orgs.context.administered_school_ids), else read here."""
    if administered is None:
        administered = db.session.scalars(administered_ids(user_id)).all()
    if only is not None:
        administered = [only] if only in administered else []
    if not administered:
        return []
    # Through the session's connection, not the ORM: its rows are plain rows either way, and
    # the ORM's handling of each costs about a microsecond, hundreds of schools times.
    schools = db.session.connection().execute(with_run_facts(
        select(Organisation.id.label("organisation_id"), Organisation.trust_id, Organisation.name,
               Organisation.time_zone, Trust.name.label("trust_name"),
               no_recent_success(now).label("stale"),
               has_synced_group_of(Organisation.id).label("has_synced_group"),
               func.coalesce(SyncSchedule.frequency, due.OFF).label("frequency"),
               SyncSchedule.minute_of_day, SyncSchedule.next_due_at, SyncSchedule.paused_at)
        .outerjoin(Trust, Trust.id == Organisation.trust_id)
        .outerjoin(SyncSchedule, SyncSchedule.organisation_id == Organisation.id)
        # The ids as one array, not a subquery: PostgreSQL then knows how many schools it
        # reads and joins hundreds by hashing rather than one by one (6.4 to 4.7 ms at 500).
        .where(one_of(Organisation.id, administered)))).all()
    # By position: a Row's attributes cost about a microsecond each, hundreds of schools times.
    connections = connections_of([(school[0], school[1]) for school in schools])
    platform_paused = app_credentials.refusal() is not None  # one read for every row
    return [_row(school, connections[school[0]], platform_paused) for school in schools]


def add_shown_details(rows):
    """Fills in what only a shown row needs (the page's fifty, or all of them to export or
    mail): its runs and its groups (a statement each) and its active people."""
    load_runs([row.facts for row in rows])
    add_selections(rows)
    return add_active_people(rows)


def _fill(rows, attribute, read_many):
    """Sets attribute on the rows that lack it, from read_many(their ids) ({id: value}, one
    read for all of them)."""
    missing = [row for row in rows if getattr(row, attribute) is None]
    if missing:
        found = read_many([row.id for row in missing])
        for row in missing:
            setattr(row, attribute, found[row.id])
    return rows


def add_selections(rows):
    """Reads the saved groups of these rows (shown, acted on, or all of them to sort by Groups)
    in one statement, for those not yet read."""
    return _fill(rows, "loaded_selection", saved_selections)


def add_active_people(rows):
    """Fills active_people for these rows (shown, or all of them to sort by it): the cached
    people counts, one Redis round trip, one query for any not cached."""
    return _fill(rows, "active_people", active_people_of)


def _row(school, connection, platform_paused=False):
    """school: the schools query's row, which carries its schedule (frequency, next_due_at)
    and ends with its run facts."""
    organisation_id, stale, has_synced_group = school[0], bool(school[5]), bool(school[6])
    facts = run_facts_from(school, organisation_id)
    state = connection_state(connection, has_synced_group)
    return SchoolRow(id=organisation_id, name=school[2], time_zone=school[3], trust_name=school[4],
                     connection=connection, has_synced_group=has_synced_group, facts=facts,
                     stale=stale, state=state, status=st.status_of(state, facts, stale),
                     schedule=school, platform_paused=platform_paused)
