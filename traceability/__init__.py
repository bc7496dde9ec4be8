"""Suyuan's service: domain, storage, the transparency log, the HTTP API and the `suyuan` command."""
