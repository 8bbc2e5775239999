"""Per-organisation data-protection settings: how long leavers' details are kept."""
from webapp.clock import utcnow
from webapp.extensions import db


class PrivacySettings(db.Model):
    __tablename__ = "privacy_settings"

    id = db.Column(db.Integer, primary_key=True)
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisations.id", ondelete="CASCADE"),
                                nullable=False, unique=True)
    # Days a person suspended by the sync is kept before erasure; NULL means never erased.
    erase_leavers_after_days = db.Column(db.Integer)
    # Schools that existed before retention was introduced start at Never and are asked to choose.
    needs_choice = db.Column(db.Boolean, nullable=False, default=False)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=utcnow,
                           onupdate=utcnow)
