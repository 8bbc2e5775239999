"""Organisations (schools and trusts), memberships, and who may open which organisation's pages."""
