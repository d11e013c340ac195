"""L6 output: the registry of formats for diagnostics, results, test reports and renderings. Never prints."""
