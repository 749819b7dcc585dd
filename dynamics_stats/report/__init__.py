"""Reports: text, JSON schema and HTML renderings of results."""
