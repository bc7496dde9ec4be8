"""The regulators' pages: `/audit`."""
