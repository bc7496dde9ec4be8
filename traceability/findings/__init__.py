"""Findings: what looks wrong about a record (`lot_rules`) or a photo (`photo_rules`), kept
as `finding.Finding`s, one list of codes for all of them."""
