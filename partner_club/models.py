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
from partner_club.accounts.profile_models import ContactConfirmation
from partner_club.audit.models import AuditEntry
from partner_club.campaigns.models import BonusGrant, Campaign, CampaignAward
from partner_club.jobs.models import Job, JobStatus
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.mailings.models import CallEntry, CallList, Mailing, MailingRecipient
from partner_club.notifications.models import Delivery, Notification, NotificationPreference, PushSubscription
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.settings_store import Setting

__all__ = [
    "Account",
    "AuditEntry",
    "BonusGrant",
    "CallEntry",
    "CallList",
    "Campaign",
    "CampaignAward",
    "ContactConfirmation",
    "Delivery",
    "Invitation",
    "InvitationUse",
    "Job",
    "JobStatus",
    "LedgerEntry",
    "Mailing",
    "MailingRecipient",
    "Notification",
    "NotificationPreference",
    "Outlet",
    "PasswordReset",
    "PointLot",
    "PushSubscription",
    "Region",
    "Role",
    "Setting",
    "Territory",
    "User",
    "UserSession",
    "UserStatus",
]
