"""Trusts, organisations (schools) and the memberships that tie people to them."""
from flask import current_app, has_app_context

from webapp.clock import utcnow
from webapp.extensions import db

ROLES = ("admin", "member")
STATUSES = ("active", "suspended")


class Trust(db.Model):
    __tablename__ = "trusts"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False, unique=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    organisations = db.relationship("Organisation", back_populates="trust")


def platform_time_zone():
    """New organisations start in the platform's DEFAULT_TIME_ZONE."""
    return current_app.config["DEFAULT_TIME_ZONE"] if has_app_context() else "Europe/London"


class Organisation(db.Model):
    __tablename__ = "organisations"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False, unique=True)
    trust_id = db.Column(db.Integer, db.ForeignKey("trusts.id"), index=True)
    # IANA name; daily sync times and dates shown to the school are in this zone.
    time_zone = db.Column(db.String(64), nullable=False, default=platform_time_zone,
                          server_default="Europe/London")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)

    trust = db.relationship("Trust", back_populates="organisations")
    memberships = db.relationship("Membership", back_populates="organisation",
                                  cascade="all, delete-orphan")

    def trust_organisations(self):
        """Every organisation of this one's trust; an organisation without a trust is a trust of one."""
        if self.trust is None:
            return [self]
        return sorted(self.trust.organisations, key=lambda org: org.name)


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        db.UniqueConstraint("user_id", "organisation_id", name="uq_memberships_user_org"),
        db.Index("ix_memberships_org_status", "organisation_id", "status"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False)
    role = db.Column(db.String(16), nullable=False, default="member")
    source = db.Column(db.String(16), nullable=False, default="manual")
    status = db.Column(db.String(16), nullable=False, default="active")
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow,
                           onupdate=utcnow)

    user = db.relationship("User", back_populates="memberships")
    organisation = db.relationship("Organisation", back_populates="memberships")

    @property
    def is_admin(self):
        return self.role == "admin"
