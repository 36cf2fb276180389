"""Every model of the core, imported in one place so the mapper sees them all."""

from partner_club.accounts.models import (
    Invitation,
    InvitationUse,
    PasswordReset,
    Role,
    User,
    UserSession,
    UserStatus,
)
from partner_club.audit.models import AuditEntry
from partner_club.campaigns.models import BonusGrant, Campaign, CampaignAward
from partner_club.jobs.models import Job, JobStatus
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.settings_store import Setting

__all__ = [
    "Account",
    "AuditEntry",
    "BonusGrant",
    "Campaign",
    "CampaignAward",
    "Invitation",
    "InvitationUse",
    "Job",
    "JobStatus",
    "LedgerEntry",
    "Outlet",
    "PasswordReset",
    "PointLot",
    "Region",
    "Role",
    "Setting",
    "Territory",
    "User",
    "UserSession",
    "UserStatus",
]
