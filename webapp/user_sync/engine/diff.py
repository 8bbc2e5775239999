"""The sync's decisions, as a pure function: fetched Microsoft users + what we hold -> a Plan.

No database and no Flask here, so every rule (guests, disabled accounts, duplicate emails,
exclusions, protected admins) is tested directly and shared by Sync now and Preview changes.
"""
from collections import Counter, namedtuple
from dataclasses import dataclass, field

from webapp.user_sync import models as m

# One Microsoft user as fetched: compact tuples, never ORM objects (50,000 of them at a time).
MicrosoftUser = namedtuple("MicrosoftUser", "id display_name mail upn job_title department "
                                            "enabled user_type")
# A person as the platform will store them.
Person = namedtuple("Person", "microsoft_id email email_normalised display_name job_title department")
# One synced_people row (joined with its membership) as the diff needs it.
Existing = namedtuple("Existing", "id microsoft_id membership_id user_id role email_normalised "
                                  "display_name job_title department status excluded in_group")

# What happens to one fetched person: action is an m.ADD / m.UPDATE / ... code or UNCHANGED;
# reason (a skip, keep or suspension) and changed (field names) only where they apply.
Decision = namedtuple("Decision", "action person reason changed")
UNCHANGED = "unchanged"


@dataclass
class Plan:
    adds: list = field(default_factory=list)        # (Person, synced_person_id or None)
    updates: list = field(default_factory=list)     # (Existing, Person, changed field names)
    reinstates: list = field(default_factory=list)  # (Existing, Person, changed field names)
    suspends: list = field(default_factory=list)    # (Existing, Person, reason)
    skips: list = field(default_factory=list)       # (Person, reason, synced_person_id or None)
    keeps: list = field(default_factory=list)       # (Existing, Person, reason): not suspended
    presence: dict = field(default_factory=dict)    # synced_person_id -> now in the group?
    unchanged: int = 0

    @property
    def has_changes(self):
        return bool(self.adds or self.updates or self.reinstates or self.suspends
                    or self.presence)

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


def counted_emails(users, include_guests=False):
    """{email: how many of these users have it}, counting only the people a sync could add
    (in scope and enabled): two such people sharing an address are both skipped."""
    return Counter(email_of(u).lower() for u in users
                   if u.enabled is not False and (include_guests or not is_guest(u)))


def decide(user, row, protected, include_guests, sharing_email):
    """One fetched person's fate: the rule plan_changes applies to every member of the group,
    and the why-not answer to one. row: their Existing row or None; sharing_email: how many
    members of the group have their address in counted_emails (themselves included)."""
    person = person_from(user)
    if row is not None and row.excluded:
        return Decision(m.SKIP, person, m.EXCLUDED, ())
    if is_guest(user) and not include_guests:
        return Decision(m.SKIP, person, m.GUEST, ())
    if user.enabled is False:
        return _decide_disabled(row, person, protected)
    if not person.email_normalised:
        return Decision(m.SKIP, person, m.NO_EMAIL, ())
    if sharing_email > 1:
        return Decision(m.SKIP, person, m.DUPLICATE_EMAIL, ())
    if row is None or row.user_id is None:  # never added, or removed by hand since
        return Decision(m.ADD, person, None, ())
    changed = changed_fields(row, person)
    if row.status == "suspended":
        return Decision(m.REINSTATE, person, None, changed)
    return Decision(m.UPDATE if changed else UNCHANGED, person, None, changed)


def _decide_disabled(row, person, protected):
    if row is None or row.user_id is None:
        return Decision(m.SKIP, person, m.DISABLED, ())
    if row.status != "active":
        return Decision(UNCHANGED, person, None, ())
    if row.membership_id in protected:
        return Decision(m.KEEP, person, protected[row.membership_id], ())
    return Decision(m.SUSPEND, person, m.DISABLED, ())


def plan_changes(fetched, existing, protected, include_guests=False):
    """fetched: MicrosoftUsers of a COMPLETE fetch; existing: Existing rows of the organisation;
    protected: {membership_id: reason} that no sync may suspend (admins, the connecting account).
    """
    by_id = {row.microsoft_id: row for row in existing}
    users = list({user.id: user for user in fetched}.values())
    emails = counted_emails(users, include_guests)
    plan, seen = Plan(), set()
    for user in users:
        seen.add(user.id)
        row = by_id.get(user.id)
        decision = decide(user, row, protected, include_guests, emails[email_of(user).lower()])
        _place(plan, decision, row)
    for row in existing:
        if row.microsoft_id not in seen:
            _plan_absent(plan, row, protected)
    return plan


def _place(plan, decision, row):
    action, person, reason, changed = decision
    row_id = row.id if row is not None else None
    if row is not None and not row.in_group:
        plan.presence[row.id] = True
    if action == m.SKIP:
        plan.skips.append((person, reason, row_id))
    elif action == m.ADD:
        plan.adds.append((person, row_id))
    elif action in (m.UPDATE, m.REINSTATE):
        (plan.updates if action == m.UPDATE else plan.reinstates).append((row, person, changed))
    elif action in (m.SUSPEND, m.KEEP):
        (plan.suspends if action == m.SUSPEND else plan.keeps).append((row, person, reason))
    else:
        plan.unchanged += 1


def _plan_absent(plan, row, protected):
    if row.in_group:
        plan.presence[row.id] = False
    if row.excluded or row.status != "active" or row.user_id is None:
        return
    if row.membership_id in protected:
        plan.keeps.append((row, person_from_existing(row), protected[row.membership_id]))
    else:
        plan.suspends.append((row, person_from_existing(row), m.LEFT_GROUP))


def removal_limit(active_people, percent, minimum):
    """How many suspensions a run may make without review: the share, but never below minimum."""
    return max(minimum, (active_people * percent) // 100)


def needs_review(plan, active_people, percent, minimum):
    return len(plan.suspends) > removal_limit(active_people, percent, minimum)
