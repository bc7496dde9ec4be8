"""The JSON API (protocol §2, §4, §5): the log, accounts, lots, photos, regulators' reading
and exports."""
