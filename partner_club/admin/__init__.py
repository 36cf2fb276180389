"""The organizer's admin: regions, territories, staff, shops, people, the audit log."""
