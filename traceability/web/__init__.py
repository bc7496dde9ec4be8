"""The HTTP service: the JSON API (`api`), the public pages of lots (`public`), the
regulators' pages (`audit`) and the grower app (`grower`), over the services."""
