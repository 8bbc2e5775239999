"""The sync's decisions, as a pure function: fetched Microsoft users + what we hold -> a Plan.

No database and no Flask here, so every rule (guests, disabled accounts, duplicate emails,
exclusions, protected admins) is tested directly and shared by Sync now and Preview changes.
"""
from collections import Counter, namedtuple
from dataclasses import dataclass, field

from webapp.user_sync import models as m
from webapp.user_sync.engine.scope import scope_of, via_text

# One Microsoft user as fetched: compact tuples, never ORM objects (50,000 of them at a time).
MicrosoftUser = namedtuple("MicrosoftUser", "id display_name mail upn job_title department "
                                            "enabled user_type")
# A person as the platform will store them.
Person = namedtuple("Person", "microsoft_id email email_normalised display_name job_title department")
# One synced_people row (joined with its membership) as the diff needs it.
Existing = namedtuple("Existing", "id microsoft_id membership_id user_id role email_normalised "
                                  "display_name job_title department status excluded in_group "
                                  "synced_via", defaults=(None,))

FIELDS = ("email", "display_name", "job_title", "department")


@dataclass
class Plan:
    adds: list = field(default_factory=list)        # (Person, synced_person_id or None)
    updates: list = field(default_factory=list)     # (Existing, Person, changed field names)
    reinstates: list = field(default_factory=list)  # (Existing, Person, changed field names)
    suspends: list = field(default_factory=list)    # (Existing, Person, reason)
    skips: list = field(default_factory=list)       # (Person, reason, synced_person_id or None)
    keeps: list = field(default_factory=list)       # (Existing, Person, reason): not suspended
    presence: dict = field(default_factory=dict)    # synced_person_id -> now in the group?
    via: dict = field(default_factory=dict)         # microsoft_id -> "Synced through" text
    via_changes: dict = field(default_factory=dict)  # synced_person_id -> new "Synced through"
    excluded_by: dict = field(default_factory=dict)  # microsoft_id -> name of the excluded group
    unchanged: int = 0

    @property
    def has_changes(self):
        return bool(self.adds or self.updates or self.reinstates or self.suspends
                    or self.presence or self.via_changes)

    def counts(self):
        return {"added": len(self.adds), "updated": len(self.updates),
                "suspended": len(self.suspends), "reinstated": len(self.reinstates),
                "skipped": len(self.skips), "unchanged": self.unchanged}


def email_of(user):
    """Microsoft's mail, or the sign-in name when the account has no mailbox."""
    return (user.mail or user.upn or "").strip()


def is_guest(user):
    return (user.user_type or "").lower() == "guest" or "#EXT#" in (user.upn or "").upper()


TEXT_LIMIT = 255  # the width of the name, job title and department columns


def clean_text(value):
    """Tenant text as we can store it: PostgreSQL refuses NUL and anything past the column width,
    and one such person must not fail everybody's sync."""
    return (value or "").replace("\x00", "").strip()[:TEXT_LIMIT]


def person_from(user):
    email = email_of(user)
    return Person(user.id, email, email.lower(), clean_text(user.display_name),
                  clean_text(user.job_title) or None, clean_text(user.department) or None)


def person_from_existing(row):
    return Person(row.microsoft_id, row.email_normalised, row.email_normalised, row.display_name,
                  row.job_title, row.department)


def changed_fields(row, person):
    changed = []
    if row.email_normalised != person.email_normalised:
        changed.append("email")
    for name in ("display_name", "job_title", "department"):
        if (getattr(row, name) or None) != (getattr(person, name) or None):
            changed.append(name)
    return tuple(changed)


def plan_changes(fetched, existing, protected, include_guests=False, memberships=None,
                 selection=None):
    """fetched: MicrosoftUsers of a COMPLETE fetch of every synced group; existing: Existing rows
    of the organisation; protected: {membership_id: reason} that no sync may suspend (admins, the
    connecting account); memberships and selection: see engine.scope (None: everyone fetched is
    in scope, as with one group).
    """
    by_id = {row.microsoft_id: row for row in existing}
    users = list({user.id: user for user in fetched}.values())
    # --- group scope: engine.scope.scope_of decides who the selection brings in -------------
    scopes = {u.id: scope_of(u.id, memberships, selection) for u in users} if selection else {}
    kept_out = {uid for uid, scope in scopes.items() if not scope.in_scope}
    # ------------------------------------------------------------------------------------------
    in_scope = [u for u in users if u.id not in kept_out and (include_guests or not is_guest(u))]
    emails = Counter(email_of(u).lower() for u in in_scope if u.enabled is not False)
    plan, seen = Plan(), set()
    for user in users:
        if user.id in kept_out:
            _plan_kept_out(plan, user, by_id.get(user.id), scopes[user.id])
            continue
        seen.add(user.id)
        _plan_one(plan, user, by_id.get(user.id), protected, include_guests, emails)
        if user.id in scopes:
            _plan_via(plan, user.id, by_id.get(user.id), via_text(scopes[user.id]))
    for row in existing:
        if row.microsoft_id not in seen:
            reason = m.EXCLUDED_GROUP if row.microsoft_id in plan.excluded_by else m.LEFT_GROUP
            _plan_absent(plan, row, protected, reason)
    return plan


def _plan_kept_out(plan, user, row, scope):
    """In a synced group but also in an excluded one: treated as absent (an active person is
    suspended below); anyone not active is recorded as skipped, naming the group."""
    if scope.excluding is None:
        return
    plan.excluded_by[user.id] = scope.excluding.name
    if row is None or row.excluded or row.status != "active" or row.user_id is None:
        reason = m.EXCLUDED if row is not None and row.excluded else m.EXCLUDED_GROUP
        plan.skips.append((person_from(user), reason, row.id if row is not None else None))


def _plan_via(plan, microsoft_id, row, via):
    plan.via[microsoft_id] = via
    if row is not None and row.synced_via != via:
        plan.via_changes[row.id] = via


def _plan_one(plan, user, row, protected, include_guests, emails):
    person = person_from(user)
    if row is not None and not row.in_group:
        plan.presence[row.id] = True
    row_id = row.id if row is not None else None
    if row is not None and row.excluded:
        plan.skips.append((person, m.EXCLUDED, row_id))
    elif is_guest(user) and not include_guests:
        plan.skips.append((person, m.GUEST, row_id))
    elif user.enabled is False:
        _plan_disabled(plan, user, row, person, protected)
    elif emails[person.email_normalised] > 1:
        plan.skips.append((person, m.DUPLICATE_EMAIL, row_id))
    elif row is None or row.user_id is None:  # never added, or removed by hand since
        plan.adds.append((person, row_id))
    else:
        changed = changed_fields(row, person)
        if row.status == "suspended":
            plan.reinstates.append((row, person, changed))
        elif changed:
            plan.updates.append((row, person, changed))
        else:
            plan.unchanged += 1


def _plan_disabled(plan, user, row, person, protected):
    if row is None or row.user_id is None:
        plan.skips.append((person, m.DISABLED, row.id if row else None))
    elif row.status != "active":
        plan.unchanged += 1
    elif row.membership_id in protected:
        plan.keeps.append((row, person, protected[row.membership_id]))
    else:
        plan.suspends.append((row, person, m.DISABLED))


def _plan_absent(plan, row, protected, reason=m.LEFT_GROUP):
    if row.in_group:
        plan.presence[row.id] = False
    if row.excluded or row.status != "active" or row.user_id is None:
        return
    if row.membership_id in protected:
        plan.keeps.append((row, person_from_existing(row), protected[row.membership_id]))
    else:
        plan.suspends.append((row, person_from_existing(row), reason))


def removal_limit(active_people, percent, minimum):
    """How many suspensions a run may make without review: the share, but never below minimum."""
    return max(minimum, (active_people * percent) // 100)


def needs_review(plan, active_people, percent, minimum):
    return len(plan.suspends) > removal_limit(active_people, percent, minimum)
