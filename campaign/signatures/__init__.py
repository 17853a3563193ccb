"""Signatures: the sign form and its settings, regions, relationships, counting, withdrawal."""
