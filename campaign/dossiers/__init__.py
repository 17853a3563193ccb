"""Dossiers: what goes into the PDF for an authority, its snapshots and their verification."""
