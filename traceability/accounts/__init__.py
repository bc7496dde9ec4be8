"""Growers, regulators and cooperatives: who is asking (`actors`), registering and revoking
their keys (`service`), browser sessions and sign-in cards (`sessions`), and who signed
what (`parties`)."""
