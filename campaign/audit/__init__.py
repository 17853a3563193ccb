"""The audit log: who did what to an appeal and when, without anyone's personal data."""
