"""The Schools page: every school an admin administers, its sync at a glance, acted on at once."""
