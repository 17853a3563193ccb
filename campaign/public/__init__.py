"""Public pages that belong to no appeal: the home page."""
