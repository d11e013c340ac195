"""L6 tooling: discovery, validation, locking and the guideline test runner. Never prints."""
