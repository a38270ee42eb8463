"""The reference population and group-label map page (issue 11)."""
