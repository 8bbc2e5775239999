"""Bulk reads and writes of the people tables, inside the caller's one transaction.

Nothing here commits. The engine calls apply_plan only after a complete fetch, and commits
once, so a failure anywhere leaves every people table exactly as it was.
"""
from datetime import datetime, timezone

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m
from webapp.user_sync.engine.diff import Existing

USERS, MEMBERSHIPS = User.__table__, Membership.__table__
PEOPLE = m.SyncedPerson.__table__
CHUNK = 900  # below every database's limit on bound parameters per statement


def insert_for(bind):
    """The dialect's INSERT (with ON CONFLICT) for the session's database: PostgreSQL's or
    SQLite's, the two the product runs on."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[bind.dialect.name]


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def load_existing(organisation_id, microsoft_id=None):
    """Every synced person of the organisation (or the one with that Microsoft id), in one
    query, as compact tuples."""
    stmt = (select(PEOPLE.c.id, PEOPLE.c.microsoft_id, PEOPLE.c.membership_id,
                   MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.role, PEOPLE.c.email_normalised,
                   PEOPLE.c.display_name, PEOPLE.c.job_title, PEOPLE.c.department,
                   PEOPLE.c.status, PEOPLE.c.excluded, PEOPLE.c.in_group, PEOPLE.c.synced_via)
            .select_from(PEOPLE.outerjoin(MEMBERSHIPS, MEMBERSHIPS.c.id == PEOPLE.c.membership_id))
            .where(PEOPLE.c.organisation_id == organisation_id))
    if microsoft_id is not None:
        stmt = stmt.where(PEOPLE.c.microsoft_id == microsoft_id)
    return [Existing(*row) for row in db.session.execute(stmt)]


def protected_memberships(organisation_id, connection=None):
    """{membership_id: reason}: admins and the connecting account are never suspended."""
    rows = db.session.execute(select(MEMBERSHIPS.c.id, MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.role)
                              .where(MEMBERSHIPS.c.organisation_id == organisation_id,
                                     MEMBERSHIPS.c.role == "admin")).all()
    protected = {row.id: m.PROTECTED_ADMIN for row in rows}
    connector_id = _connecting_user_id(connection)
    if connector_id is not None:
        membership_id = db.session.scalar(select(MEMBERSHIPS.c.id).where(
            MEMBERSHIPS.c.organisation_id == organisation_id, MEMBERSHIPS.c.user_id == connector_id))
        if membership_id is not None:
            protected.setdefault(membership_id, m.PROTECTED_CONNECTOR)
    return protected


def _connecting_user_id(connection):
    if connection is None:
        return None
    if connection.connected_by_user_id is not None:
        return connection.connected_by_user_id
    return db.session.scalar(select(USERS.c.id).where(
        USERS.c.email_normalised == (connection.account_email or "").strip().lower()))


def is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def one_of(column, values):
    """column IN values: one array parameter on PostgreSQL (900 parameters cost more to send
    than to look up), the usual IN list elsewhere."""
    if is_postgresql():
        item_type = Integer() if isinstance(column.type, Integer) else String()
        return column == any_(bindparam(None, list(values), type_=ARRAY(item_type)))
    return column.in_(list(values))


def parts(values):
    return chunks(values, 20_000 if is_postgresql() else CHUNK)


def accounts_of(emails):
    """{email_normalised: user id} of the platform accounts that have these emails."""
    found = {}
    for part in parts(set(emails)):
        found.update(db.session.execute(select(USERS.c.email_normalised, USERS.c.id)
                                        .where(one_of(USERS.c.email_normalised, part))).all())
    return found


def memberships_of(organisation_id, user_ids):
    """{user id: (membership id, status)} of these accounts' memberships of the organisation."""
    found = {}
    for part in parts(set(user_ids)):
        for row in db.session.execute(select(MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.id,
                                             MEMBERSHIPS.c.status)
                                      .where(MEMBERSHIPS.c.organisation_id == organisation_id,
                                             one_of(MEMBERSHIPS.c.user_id, part))):
            found[row.user_id] = (row.id, row.status)
    return found


def set_status(table, ids, status, now, extra=None):
    values = {"status": status, **(extra or {})}
    if table is MEMBERSHIPS:
        values["updated_at"] = now
    for part in parts(ids):
        db.session.execute(update(table).where(one_of(table.c.id, part)).values(**values))


def update_people_rows(rows, now, relink=False, tenant_id=None):
    """rows: (synced person id, Person, membership id): the copied fields and status become the
    Person's. relink also moves the row to the Person's Microsoft id (of tenant_id) and
    membership (the same person with a re-created Microsoft account)."""
    if not rows:
        return
    values = dict(email=bindparam("_email"), email_normalised=bindparam("_norm"),
                  display_name=bindparam("_name"), sort_name=bindparam("_sort"),
                  job_title=bindparam("_title"), department=bindparam("_dept"),
                  status="active", suspended_reason=None, suspended_group=None,
                  suspended_at=None, last_seen_at=now)
    if relink:
        values.update(microsoft_id=bindparam("_msid"), membership_id=bindparam("_mid"),
                      in_group=True, tenant_id=tenant_id)
    params = [{"_id": row_id, "_email": p.email, "_norm": p.email_normalised,
               "_name": p.display_name, "_sort": m.sort_name(p.display_name, p.email),
               "_title": p.job_title, "_dept": p.department, **({"_msid": p.microsoft_id, "_mid": mid} if relink else {})}
              for row_id, p, mid in rows]
    db.session.execute(update(PEOPLE).where(PEOPLE.c.id == bindparam("_id")).values(**values),
                       params)


def update_user_rows(pairs):
    """pairs: (user_id, Person): the platform account takes Microsoft's name, email, title.
    In user id order, so two schools updating shared staff at once lock rows in the same order
    (one waits for the other instead of a deadlock)."""
    if not pairs:
        return
    pairs = sorted(pairs, key=lambda pair: pair[0])
    _free_addresses_handed_on(pairs)
    stmt = (update(USERS).where(USERS.c.id == bindparam("_id"))
            .values(email=bindparam("_email"), email_normalised=bindparam("_norm"),
                    display_name=bindparam("_name"), job_title=bindparam("_title"),
                    department=bindparam("_dept")))
    db.session.execute(stmt, [
        {"_id": user_id, "_email": p.email, "_norm": p.email_normalised, "_name": p.display_name,
         "_title": p.job_title, "_dept": p.department} for user_id, p in pairs])


def _free_addresses_handed_on(pairs):
    """An address one account gives up and another takes in the same sync (two swapped, or a
    chain): its holder first gets a placeholder no address can be ("~" and its id), so the
    updates never meet the unique index in between (the whole sync failed on it, and every
    sync after until Microsoft changed again). The same transaction then writes every final
    address."""
    updating = {user_id for user_id, _ in pairs}
    holders = accounts_of([person.email_normalised for _, person in pairs])
    handing_on = sorted({holders[p.email_normalised] for user_id, p in pairs
                         if holders.get(p.email_normalised) not in (None, user_id)
                         and holders[p.email_normalised] in updating})
    if handing_on:
        db.session.execute(update(USERS).where(USERS.c.id == bindparam("_id"))
                           .values(email_normalised=bindparam("_free")),
                           [{"_id": user_id, "_free": f"~{user_id}"} for user_id in handing_on])


def bulk_insert(table, rows):
    """rows: dicts with the same keys. Straight to the driver's executemany: SQLAlchemy's
    per-row parameter processing costs more than the inserts themselves at 50,000 rows."""
    if not rows:
        return
    conn = db.session.connection()
    columns = list(rows[0])
    missing = {c.name: c.default for c in table.columns
               if c.default is not None and c.name not in columns}
    if missing:  # the model's Python-side defaults, which raw SQL would otherwise skip
        fill = {name: d.arg(None) if d.is_callable else d.arg for name, d in missing.items()}
        rows, columns = [{**row, **fill} for row in rows], columns + list(fill)
    values = [tuple(row[c] for c in columns) for row in rows]
    if conn.dialect.name == "postgresql":
        _copy_into(conn, table, columns, values)
        return
    if conn.dialect.name == "sqlite":
        values = [tuple(_sqlite_value(v) for v in row) for row in values]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                         f"VALUES ({', '.join([marker] * len(columns))})", values)


def insert_accounts(rows):
    """Inserts platform accounts (rows: their columns, email_normalised among them); returns
    {email_normalised: user id} of each, also of an email another school's sync inserted first."""
    if not rows:
        return {}
    first_new = max_id(USERS)
    emails = [row["email_normalised"] for row in rows]
    if insert_new_users(rows):
        return user_ids_inserted_after(first_new, emails)
    return accounts_of(emails)


def insert_memberships(organisation_id, user_ids, now):
    """Active members of the organisation, from Microsoft; {user id: membership id} of each."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    first_new = max_id(MEMBERSHIPS)
    bulk_insert(MEMBERSHIPS, [{"user_id": user_id, "organisation_id": organisation_id,
                               "role": "member", "source": "microsoft", "status": "active",
                               "created_at": now, "updated_at": now} for user_id in user_ids])
    return {user_id: membership_id for user_id, (membership_id, _)
            in memberships_inserted_after(organisation_id, first_new).items()}


def insert_new_users(rows):
    """Inserts platform accounts; False if some already existed by the time they were written.

    Staff shared between two schools of a trust whose syncs run at once: both may insert the
    same people. The fast bulk insert then meets the other school's rows on the unique email
    (PostgreSQL makes it wait for that transaction, then refuses), so it is undone to a
    savepoint and the rows go in again skipping the emails that exist (insert_accounts then
    reads the ids by email)."""
    if not rows:
        return True
    bind = db.session.get_bind()
    try:
        with db.session.begin_nested():
            bulk_insert(USERS, rows)
        return True
    except (IntegrityError, bind.dialect.dbapi.IntegrityError):
        pass
    db.session.execute(insert_for(bind)(USERS).on_conflict_do_nothing(
        index_elements=[USERS.c.email_normalised]), rows)
    return False


def _copy_into(conn, table, columns, values):
    """PostgreSQL's COPY: the fastest way in, and still inside the caller's transaction."""
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def _sqlite_value(value):
    """SQLite stores datetimes the way SQLAlchemy's DateTime reads them back (naive UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def max_id(table, *where):
    return db.session.scalar(select(func.max(table.c.id)).where(*where)) or 0


def user_ids_inserted_after(before_id, emails):
    """Ids of the users this transaction just inserted (emails are unique: others' rows drop out)."""
    wanted = set(emails)
    rows = db.session.execute(select(USERS.c.email_normalised, USERS.c.id)
                              .where(USERS.c.id > before_id))
    return {email: user_id for email, user_id in rows if email in wanted}


def memberships_inserted_after(organisation_id, before_id):
    rows = db.session.execute(select(MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.id, MEMBERSHIPS.c.status)
                              .where(MEMBERSHIPS.c.organisation_id == organisation_id,
                                     MEMBERSHIPS.c.id > before_id))
    return {row.user_id: (row.id, row.status) for row in rows}
