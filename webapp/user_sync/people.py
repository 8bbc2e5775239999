"""The synced people table: server-side search, filter, sort and pages; CSV; exclusions.

Every query reads synced_people alone, through its (organisation, status, sort_name) indexes,
so a page costs about the same at 500 people as at 50,000.
"""
import csv
import io

from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from webapp.dates import iso_timestamp
from webapp import audit
from webapp.audit import actions
from webapp.csv_safety import safe_cell as _safe_cell
from webapp.auth.models import NAME_MAX_LENGTH
from webapp.errors import NotFound, ServiceError
from webapp.microsoft.models import OBJECT_ID
from webapp.extensions import db
from webapp.listing import Page, contains, page_within
from webapp.orgs.models import Membership
from webapp.redis_conn import get_redis, redis_key
from webapp.sql_lists import one_of
from webapp.user_sync.models import SyncedPerson, sort_name
from webapp.user_sync.reasons import status_reason

EMAIL_COLUMN_LENGTH = SyncedPerson.__table__.c.email.type.length

PER_PAGE = 50
STATUSES = ("active", "suspended", "excluded")
COUNTS_SECONDS, DAY_SECONDS = 3600, 86400
SORTS = {
    "name": (SyncedPerson.sort_name,),
    "email": (SyncedPerson.email_normalised,),
    "job_title": (SyncedPerson.job_title,),
    "department": (SyncedPerson.department,),
    "status": (SyncedPerson.status, SyncedPerson.sort_name),
}
SORT_LABELS = {"name": "Name", "email": "Email", "job_title": "Job title",
               "department": "Department", "status": "Status"}
CSV_HEADER = ("email", "display_name", "job_title", "department", "status", "last_seen",
              "microsoft_id", "synced_through", "status_reason")


def filtered(organisation_id, query="", status=""):
    stmt = select(SyncedPerson).where(SyncedPerson.organisation_id == organisation_id)
    if status in STATUSES:
        stmt = stmt.where(SyncedPerson.status == status)
    query = (query or "").strip().lower()
    if query:
        stmt = stmt.where(or_(contains(SyncedPerson.sort_name, query),
                              contains(SyncedPerson.email_normalised, query)))
    return stmt


def ordered(stmt, sort="name", descending=False):
    columns = SORTS.get(sort, SORTS["name"]) + (SyncedPerson.id,)
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))


def list_synced_people(organisation_id, query="", status="", sort="name", descending=False,
                       page=1, per_page=PER_PAGE, counts=None):
    """counts: status_counts() if the caller has them; without a search they give the total,
    saving a second scan of the organisation's people."""
    stmt = filtered(organisation_id, query, status)
    if counts is not None and not query.strip():
        total = counts.get(status, 0) if status in STATUSES else sum(counts.values())
    else:
        total = db.session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(SyncedPerson.id).subquery()))
    page = page_within(page, total, per_page)
    rows = db.session.scalars(ordered(stmt, sort, descending).limit(per_page)
                              .offset((page - 1) * per_page)).all()
    return Page(items=rows, page=page, per_page=per_page, total=total)


def _counts_key(organisation_id):
    return redis_key("synced-people-counts", organisation_id)


def _changes_key(organisation_id):
    return redis_key("synced-people-changes", organisation_id)


def status_counts(organisation_id):
    """{status: people}. Counting 50,000 rows on every page view costs more than the page,
    and only a sync or an exclusion changes them, so they are kept in Redis until then."""
    return status_counts_of([organisation_id])[organisation_id]


def status_counts_of(organisation_ids):
    """{organisation id: {status: people}} for many schools: one Redis round trip for the
    cached ones, one grouped query for the rest, one transaction to cache those."""
    ids = list(organisation_ids)
    found = _cached_counts(ids)
    missing = [organisation_id for organisation_id in ids if organisation_id not in found]
    if missing:
        found.update(_count_and_cache(missing))
    return found


def _count_and_cache(organisation_ids):
    """Counts from the database, cached unless a change to one of these schools' people was
    forgotten (forget_status_counts) while they were counted: the count may be from before the
    change, and cached it would stand for an hour (a page once said "0 people" over a table of
    eight). Redis WATCHes each school's change counter from before the count to the write."""
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.watch(*(_changes_key(organisation_id) for organisation_id in organisation_ids))
    except RedisError:
        return _count(organisation_ids)
    with pipe:
        counted = _count(organisation_ids)
        try:
            pipe.multi()
            for organisation_id, counts in counted.items():
                key = _counts_key(organisation_id)
                pipe.hset(key, mapping=counts).expire(key, COUNTS_SECONDS)
            pipe.execute()
        except RedisError:  # WatchError among them: a change came in while counting
            pass
    return counted


def _count(organisation_ids):
    counted = {organisation_id: dict.fromkeys(STATUSES, 0) for organisation_id in organisation_ids}
    for organisation_id, status, number in db.session.execute(
            select(SyncedPerson.organisation_id, SyncedPerson.status, func.count())
            .where(one_of(SyncedPerson.organisation_id, organisation_ids))
            .group_by(SyncedPerson.organisation_id, SyncedPerson.status)):
        counted[organisation_id][status] = number
    return counted


def active_people_of(organisation_ids):
    """{organisation id: active people} for many schools: only that field of each cached count
    (one Redis round trip; a school's whole hash costs several times more to read), counted
    and cached as status_counts_of does for any school not cached."""
    ids = list(organisation_ids)
    try:
        pipe = get_redis().pipeline(transaction=False)
        for organisation_id in ids:
            pipe.hget(_counts_key(organisation_id), "active")
        answers = pipe.execute() if ids else []
    except RedisError:
        answers = []
    found = {organisation_id: int(active) for organisation_id, active in zip(ids, answers)
             if active is not None}
    missing = [organisation_id for organisation_id in ids if organisation_id not in found]
    if missing:  # known not cached: counted straight away, not looked up again
        found.update((organisation_id, counts["active"])
                     for organisation_id, counts in _count_and_cache(missing).items())
    return found


def _cached_counts(ids):
    try:
        pipe = get_redis().pipeline(transaction=False)
        for organisation_id in ids:
            pipe.hgetall(_counts_key(organisation_id))
        answers = pipe.execute() if ids else []
    except RedisError:
        return {}
    return {organisation_id: {status: int(cached.get(status.encode(), 0)) for status in STATUSES}
            for organisation_id, cached in zip(ids, answers) if cached}


def forget_status_counts(organisation_id):
    """Call after committing any change to the organisation's synced people: drops the cached
    counts and moves the change counter, so a count begun before the change is not cached."""
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.incr(_changes_key(organisation_id)).expire(_changes_key(organisation_id), DAY_SECONDS)
        pipe.delete(_counts_key(organisation_id)).execute()
    except RedisError:
        pass


def last_seen(person, last_run_at):
    return last_run_at if person.in_group else person.last_seen_at


def csv_rows(organisation, query="", status="", sort="name", descending=False,
             last_run_at=None, batch=2000):
    """Yields the CSV text in chunks, header first, reading the table in batches. Times are
    ISO 8601 with their offset, in the organisation's time zone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    stmt = ordered(filtered(organisation.id, query, status), sort, descending)
    for number, person in enumerate(db.session.scalars(
            stmt.execution_options(yield_per=batch)), start=1):
        seen = last_seen(person, last_run_at)
        writer.writerow([_safe_cell(v) for v in (
            person.email, person.display_name, person.job_title, person.department,
            person.status, iso_timestamp(seen, organisation), person.microsoft_id,
            person.synced_via, status_reason(person))])
        if number % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def get_person(organisation, person_id):
    person = db.session.get(SyncedPerson, person_id)
    if person is None or person.organisation_id != organisation.id:
        raise NotFound("That person is not synced to this organisation.")
    return person


def set_excluded(organisation, person_id, excluded):
    """Excluded people are never added or changed by a sync until included again."""
    person = get_person(organisation, person_id)
    audit.record(actions.PERSON_EXCLUDED if excluded else actions.PERSON_INCLUDED, organisation.id,
                 subject_synced_person_id=person.id, subject_label=person.email,
                 before={"status": person.status})
    if excluded:
        person.excluded, person.status = True, "excluded"
    elif person.membership_id is None:
        db.session.delete(person)  # never synced: the next sync adds them as new
    else:
        membership = db.session.get(Membership, person.membership_id)
        person.excluded = False
        person.status = membership.status if membership else "suspended"
    db.session.commit()
    forget_status_counts(organisation.id)
    return person


def exclude_microsoft_user(organisation, microsoft_id, email, display_name):
    """Excludes someone the sync has not added (from a preview or the 'why' answer)."""
    if not OBJECT_ID.fullmatch(microsoft_id or ""):
        raise ServiceError("Choose a person to exclude from a preview's list of who would be added.")
    email, display_name = (email or "").strip(), (display_name or "").strip()
    if len(email) > EMAIL_COLUMN_LENGTH or len(display_name) > NAME_MAX_LENGTH:
        raise ServiceError("That person's email or name is longer than can be stored, so nobody "
                           "was excluded. Exclude them from Manage user sync after the next sync.")
    person = db.session.scalar(select(SyncedPerson).where(
        SyncedPerson.organisation_id == organisation.id, SyncedPerson.microsoft_id == microsoft_id))
    if person is not None:
        return set_excluded(organisation, person.id, True)
    person = SyncedPerson(organisation_id=organisation.id, microsoft_id=microsoft_id, email=email,
                          email_normalised=email.lower(), display_name=display_name or "",
                          sort_name=sort_name(display_name, email), status="excluded",
                          excluded=True, in_group=False)
    db.session.add(person)
    db.session.flush()
    audit.record(actions.PERSON_EXCLUDED, organisation.id, subject_synced_person_id=person.id,
                 subject_label=person.email, before={"status": "not synced"})
    db.session.commit()
    forget_status_counts(organisation.id)
    return person

