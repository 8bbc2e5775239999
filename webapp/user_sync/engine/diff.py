"""The sync's decisions, as a pure function: fetched Microsoft users + what we hold -> a Plan.

No database and no Flask here, so every rule (the chosen and excluded groups, guests, disabled
accounts, duplicate emails, exclusions, protected admins) is tested directly and shared by Sync
now, Preview changes and "Why isn't this person synced?".
"""
from collections import Counter, namedtuple
from dataclasses import dataclass, field

from webapp.auth.models import normalise_email
from webapp.user_sync import models as m

# One Microsoft user as fetched: compact tuples, never ORM objects (50,000 of them at a time).
MicrosoftUser = namedtuple("MicrosoftUser", "id display_name mail upn job_title department "
                                            "enabled user_type")
# A person as the platform will store them.
Person = namedtuple("Person", "microsoft_id email email_normalised display_name job_title department")
# One synced_people row (joined with its membership) as the diff needs it.
Existing = namedtuple("Existing", "id microsoft_id membership_id user_id role email_normalised "
                                  "display_name job_title department status excluded in_group "
                                  "synced_via", defaults=(None,))

# What happens to one fetched person: action is an m.ADD / m.UPDATE / ... code or UNCHANGED;
# reason (a skip, keep or suspension) and changed (field names) only where they apply; scope:
# the groups that bring them in or keep them out (scope_of).
Decision = namedtuple("Decision", "action person reason changed scope")
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
    via: dict = field(default_factory=dict)         # microsoft_id -> "Synced through" text
    via_changes: dict = field(default_factory=dict)  # synced_person_id -> new "Synced through"
    excluded_by: dict = field(default_factory=dict)  # microsoft_id -> name of the excluded group
    linked: dict = field(default_factory=dict)  # microsoft_id -> earlier status of the membership
    unchanged: int = 0

    @property
    def has_changes(self):
        return bool(self.adds or self.updates or self.reinstates or self.suspends
                    or self.presence or self.via_changes)

    def counts(self):
        return {"added": len(self.adds), "updated": len(self.updates),
                "suspended": len(self.suspends), "reinstated": len(self.reinstates),
                "skipped": len(self.skips), "unchanged": self.unchanged}


def is_invited_name(upn):
    """An #EXT# sign-in name: made by Entra for an account invited from elsewhere (B2B
    collaboration); it is not an address mail can reach."""
    return "#EXT#" in (upn or "").upper()


def email_of(user):
    """Microsoft's mail; without one, the sign-in name, unless that is an invited account's
    #EXT# name (no mailbox): then there is no address."""
    if user.mail and user.mail.strip():
        return user.mail.strip()
    return "" if is_invited_name(user.upn) else (user.upn or "").strip()


def guest_reason(user):
    """m.GUEST when Microsoft says the account is a Guest; m.INVITED when Microsoft gives no
    account type (userType null) and the sign-in name is an invited account's #EXT# name;
    else None. An #EXT# account whose userType is Member (a B2B collaboration member, e.g. from
    another tenant of the trust) is staff, not a guest: the type decides when Microsoft gives it."""
    user_type = (user.user_type or "").lower()
    if user_type == "guest":
        return m.GUEST
    if not user_type and is_invited_name(user.upn):
        return m.INVITED
    return None


def is_guest(user):
    return guest_reason(user) is not None


def has_details(user):
    """False for a member Microsoft listed with only its type and id ("limited information":
    the connected account may not read other people)."""
    return bool(user.upn or user.mail or user.display_name)


TEXT_LIMIT = 255  # the width of the job title and department columns (Microsoft: 128 and 64)


def clean_text(value, limit=TEXT_LIMIT):
    """Tenant text as we can store it: PostgreSQL refuses NUL and anything past the column width,
    and one such person must not fail everybody's sync."""
    return (value or "").replace("\x00", "").strip()[:limit]


def person_from(user):
    email = email_of(user)
    return Person(user.id, email, normalise_email(email),
                  clean_text(user.display_name, m.NAME_LIMIT),
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


Scope = namedtuple("Scope", "in_scope synced_via excluding")
IN_SCOPE = Scope(True, (), None)  # a caller that fetched one group: everyone in it


def scope_of(user_id, memberships=None, selection=None):
    """The selection's rule: in scope when a transitive member of at least one synced group and
    of no excluded group. memberships: {group id: ids of its fetched transitive members};
    synced_via: the synced groups they are in (nested groups resolved to the chosen group that
    holds them); excluding: the excluded group that keeps them out, or None."""
    if selection is None:
        return IN_SCOPE
    synced_via = tuple(g for g in selection.synced if user_id in memberships.get(g.id, ()))
    excluding = next((g for g in selection.excluded if user_id in memberships.get(g.id, ())), None)
    return Scope(bool(synced_via) and excluding is None, synced_via, excluding)


def via_text(scope):
    """What the people table and the CSV show in "Synced through" (None: not known)."""
    return ", ".join(g.name for g in scope.synced_via) or None


def address_key(user):
    """What counted_emails counts a user's address by; every reader of its counts uses this."""
    return normalise_email(email_of(user))


def counted_emails(users, include_guests=False, memberships=None, selection=None):
    """{address_key: how many of these users have it}, counting only the people a sync could add
    (in scope and enabled): two such people sharing an address are both skipped."""
    return Counter(address_key(u) for u in users
                   if u.enabled is not False and (include_guests or not is_guest(u))
                   and scope_of(u.id, memberships, selection).in_scope)


def decide(user, row, protected, include_guests, sharing_email, memberships=None,
           selection=None):
    """One fetched person's fate: the rule plan_changes applies to every member of the chosen
    groups, and the why-not answer to one. row: their Existing row or None; sharing_email: how
    many of the fetched people have their address in counted_emails (themselves included);
    memberships and selection: see scope_of (None: everyone fetched is in scope)."""
    person, scope = person_from(user), scope_of(user.id, memberships, selection)
    if row is not None and not has_details(user):
        person = person_from_existing(row)  # what we know of them stays as it was
    action, reason, changed = _fate(user, person, row, protected, include_guests,
                                    sharing_email, scope)
    return Decision(action, person, reason, changed, scope)


def _fate(user, person, row, protected, include_guests, sharing_email, scope):
    if row is not None and row.excluded:
        return m.SKIP, m.EXCLUDED, ()
    if not scope.in_scope:
        return _fate_out_of_scope(row, protected, m.EXCLUDED_GROUP if scope.excluding
                                  else m.LEFT_GROUP)
    if not has_details(user):  # in the group, but nothing else known: add no one, change no one
        return (m.SKIP if row is None or row.user_id is None else m.KEEP), m.LIMITED_INFO, ()
    if is_guest(user) and not include_guests:
        return m.SKIP, guest_reason(user), ()
    if user.enabled is False:
        return _fate_disabled(row, protected)
    if not person.email_normalised:
        return m.SKIP, m.NO_EMAIL, ()
    if sharing_email > 1:
        return m.SKIP, m.DUPLICATE_EMAIL, ()
    if row is None or row.user_id is None:  # never added, or removed by hand since
        return m.ADD, None, ()
    changed = changed_fields(row, person)
    if row.status == "suspended":
        return m.REINSTATE, None, changed
    return (m.UPDATE if changed else UNCHANGED), None, changed


def _fate_disabled(row, protected):
    if row is None or row.user_id is None:
        return m.SKIP, m.DISABLED, ()
    if row.status != "active":
        return UNCHANGED, None, ()
    if row.membership_id in protected:
        return m.KEEP, protected[row.membership_id], ()
    return m.SUSPEND, m.DISABLED, ()


def _fate_out_of_scope(row, protected, reason):
    """Fetched, but the selection keeps them out (an excluded group): suspended like a leaver
    if active, otherwise recorded as skipped so the run says why."""
    if row is None or row.user_id is None or row.status != "active":
        return m.SKIP, reason, ()
    if row.membership_id in protected:
        return m.KEEP, protected[row.membership_id], ()
    return m.SUSPEND, reason, ()


def plan_changes(fetched, existing, protected, include_guests=False, memberships=None,
                 selection=None):
    """fetched: MicrosoftUsers of a COMPLETE fetch of every chosen group; existing: Existing rows
    of the organisation; protected: {membership_id: reason} that no sync may suspend (admins,
    the connecting account); memberships and selection: see scope_of.
    """
    by_id = {row.microsoft_id: row for row in existing}
    users = list({user.id: user for user in fetched}.values())
    emails = counted_emails(users, include_guests, memberships, selection)
    plan, seen = Plan(), set()
    for user in users:
        seen.add(user.id)
        row = by_id.get(user.id)
        _place(plan, decide(user, row, protected, include_guests, emails[address_key(user)],
                            memberships, selection), row)
    for row in existing:
        if row.microsoft_id not in seen:
            _place_absent(plan, decide_absent(row, protected, memberships, selection), row)
    return plan


def plan_of_one(decision, row):
    """One person's decision as a Plan, placed exactly as plan_changes places each person
    (Sync this person now applies it with the sync's own apply_plan)."""
    plan = Plan()
    _place(plan, decision, row)
    return plan


def _place(plan, decision, row):
    action, person, reason, changed, scope = decision
    row_id = row.id if row is not None else None
    if row is not None and row.in_group != scope.in_scope:
        plan.presence[row.id] = scope.in_scope
    _place_groups(plan, person, row, scope)
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


def _place_groups(plan, person, row, scope):
    """The groups behind the decision: "Synced through", and the excluded group's name."""
    if scope.excluding is not None:
        plan.excluded_by[person.microsoft_id] = scope.excluding.name
    via = via_text(scope) if scope.in_scope else None
    if via is not None:
        plan.via[person.microsoft_id] = via
        if row is not None and row.synced_via != via:
            plan.via_changes[row.id] = via


def decide_absent(row, protected, memberships=None, selection=None):
    """The fate of someone held but not fetched with the synced groups: out of scope, for the
    excluded group that holds them (its members are fetched too) or because they left."""
    person, scope = person_from_existing(row), scope_of(row.microsoft_id, memberships, selection)
    if row.excluded or row.status != "active" or row.user_id is None:
        return Decision(UNCHANGED, person, None, (), scope)
    if row.membership_id in protected:
        return Decision(m.KEEP, person, protected[row.membership_id], (), scope)
    reason = m.EXCLUDED_GROUP if scope.excluding is not None else m.LEFT_GROUP
    return Decision(m.SUSPEND, person, reason, (), scope)


def _place_absent(plan, decision, row):
    action, person, reason, _, scope = decision
    if row.in_group:
        plan.presence[row.id] = False
    if scope.excluding is not None:
        plan.excluded_by[person.microsoft_id] = scope.excluding.name
    if action in (m.SUSPEND, m.KEEP):
        (plan.suspends if action == m.SUSPEND else plan.keeps).append((row, person, reason))


def removal_limit(active_people, percent, minimum):
    """How many suspensions a run may make without review: the share, but never below minimum."""
    return max(minimum, (active_people * percent) // 100)


def needs_review(plan, active_people, percent, minimum):
    return len(plan.suspends) > removal_limit(active_people, percent, minimum)
