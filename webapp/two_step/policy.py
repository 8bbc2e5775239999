"""A school's "Admins must use two-step verification", and what it does to an admin without it.

An admin of a school with the policy on who signed in with a password and has no second step
is sent to set one up at every request, whatever page they ask for (so an admin already signed
in when the policy is switched on is sent there at their next request), and reaches nothing
else until it is done. A Microsoft sign-in counts as two-step only with a Microsoft account of
the school's own tenant, whose Microsoft policies govern it (microsoft_sign_in_covered); one of
any other tenant is treated as a password is (two_step_protects).
"""
from sqlalchemy import select

from webapp import audit, versions
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.errors import InvalidFields
from webapp.extensions import db
from webapp.microsoft.models import connections_of
from webapp.orgs.models import Membership, Organisation
from webapp.orgs.services import administered_ids
from webapp.two_step import status
from webapp.two_step.models import TwoStepPolicy

THIS_SCHOOL, TRUST = "school", "trust"


def policy_for(organisation_id):
    """The school's saved policy, or an unsaved one that is off."""
    return db.session.scalar(select(TwoStepPolicy).where(
        TwoStepPolicy.organisation_id == organisation_id)) or TwoStepPolicy(
        organisation_id=organisation_id, admins_must_use_two_step=False, changed_at=None)


def policy_version(organisation_id):
    """The two-tab guard's settings (webapp.versions), one per school."""
    return versions.of_organisation(organisation_id, "two_step_policy")


def schools_requiring(user):
    """Names of the schools whose policy asks this account (as their admin) for two-step."""
    return [name for name, _, _ in _requiring(user)]


def _requiring(user):
    """(name, id, trust id) of each school whose policy asks this account for two-step."""
    # A semi-join on the account's schools, not a join: asked on every request, it lets the
    # planner start from the few policies switched on rather than probe them for each of a
    # trust admin's hundreds of schools.
    return db.session.execute(
        select(Organisation.name, Organisation.id, Organisation.trust_id)
        .join(TwoStepPolicy, TwoStepPolicy.organisation_id == Organisation.id)
        .where(TwoStepPolicy.admins_must_use_two_step.is_(True),
               Organisation.id.in_(administered_ids(user.id)))
        .order_by(Organisation.name)).all()


def microsoft_sign_in_covered(user, tenant_id):
    """True when a Microsoft sign-in with an account of tenant_id stands in for two-step: every
    school whose policy asks this admin for it (with no policy on, every school of the account)
    uses a Microsoft connection of that tenant, so the school's own Microsoft policies govern
    the sign-in. An account of any other tenant (a personal one, another organisation's) and a
    session that kept no tenant are not covered: with no policy on, such a sign-in once went
    past the second step of an account that had turned two-step on itself."""
    schools = ([(school_id, trust_id) for _, school_id, trust_id in _requiring(user)]
               or _account_schools(user))
    tenant = (tenant_id or "").lower()
    return bool(tenant and schools) and all(
        connection is not None and connection.tenant_id.lower() == tenant
        for connection in connections_of(schools).values())


def _account_schools(user):
    """(id, trust id) of each school the account is an active member of."""
    return db.session.execute(
        select(Organisation.id, Organisation.trust_id)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id, Membership.status == "active")).all()


def two_step_protects(user, method, microsoft_tenant_id=None):
    """The one rule for which sign-ins two-step verification is asked of: a password sign-in,
    and a Microsoft sign-in the schools' Microsoft policies do not govern."""
    from webapp.auth.sessions import MICROSOFT, PASSWORD
    if method == MICROSOFT:
        return not microsoft_sign_in_covered(user, microsoft_tenant_id)
    return method == PASSWORD


def must_set_up(user, session_row):
    """True for an admin whom a policy asks for two-step, signed in a way two-step protects,
    without it. Asked at every request: the policy first (one query, and for most accounts the
    answer), the Microsoft tenant's schools only when a policy applies."""
    if session_row is None or not schools_requiring(user) or status.is_on(user):
        return False
    return two_step_protects(user, session_row.method, session_row.microsoft_tenant_id)


def trust_schools_administered(user, organisation):
    """The schools of organisation's trust this account administers, the organisation first;
    just the organisation outside a trust."""
    if organisation.trust_id is None:
        return [organisation]
    others = db.session.scalars(
        select(Organisation).join(Membership, Membership.organisation_id == Organisation.id)
        .where(Organisation.trust_id == organisation.trust_id, Organisation.id != organisation.id,
               Membership.user_id == user.id, Membership.role == "admin",
               Membership.status == "active").order_by(Organisation.name)).all()
    return [organisation, *others]


def read_form(form):
    """(required, scope) from the settings form, or InvalidFields."""
    required, scope = form.get("required", ""), form.get("scope") or THIS_SCHOOL
    errors = {}
    if required not in ("", "1"):
        errors["required"] = "Tick the box to require two-step verification, or leave it empty."
    if scope not in (THIS_SCHOOL, TRUST):
        errors["scope"] = "Choose this school only, or every school of the trust you administer."
    if errors:
        raise InvalidFields(errors)
    return required == "1", scope


def save(organisation, actor, required, scope, expected_version):
    """Saves the policy for the school (or every school of its trust the actor administers),
    each change audited, in one transaction. A save from a page loaded before someone else's
    change is refused (versions.ChangedSince names who and when); the trust's other schools
    move on too, so a page open on one of them is refused rather than overwriting this.
    Returns the names of the schools whose setting changed."""
    schools = trust_schools_administered(actor, organisation) if scope == TRUST else [organisation]
    for school in schools:
        versions.claim(policy_version(school.id),
                       expected_version if school.id == organisation.id else None, actor)
    changed = [school.name for school in schools if _set(school, actor, required)]
    db.session.commit()
    return changed


def _set(school, actor, required):
    policy = policy_for(school.id)
    before = bool(policy.admins_must_use_two_step)
    if before == required:
        return False
    policy.admins_must_use_two_step, policy.changed_at = required, utcnow()
    policy.changed_by_user_id = actor.id
    db.session.add(policy)
    audit.record(actions.TWO_STEP_POLICY_CHANGED, school.id, actor=actor,
                 before={"admins_must_use_two_step": before},
                 after={"admins_must_use_two_step": required})
    return True
