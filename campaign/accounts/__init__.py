"""Accounts: organisers, login, and their roles on appeals."""
