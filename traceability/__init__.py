"""Suyuan's service: the ledger, accounts, lots, photo evidence, findings, reads, exports,
the HTTP service and the `suyuan` command, over storage."""

# The one version number: the package's (pyproject.toml reads it from here) and the API's.
__version__ = "0.4.0"
