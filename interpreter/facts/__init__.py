"""L2 facts: the host's JSON, values and their kinds, the checker."""
