"""A signed report received from someone else, opened read-only (see gui.received.view)."""
