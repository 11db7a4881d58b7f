"""Accounts, roles, tokens and the audit log."""
