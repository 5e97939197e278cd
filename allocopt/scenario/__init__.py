"""Scenario input: the schema, loading YAML with ``extends:``, the parameter tables in ``data/``,
the period grid and the distributions of uncertain fields. The only readers of input files."""
