"""Submissions: the dossier handed in, the authority's answer, and the statutory clock."""
