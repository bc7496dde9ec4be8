"""The grower app: `/grower`, for a phone, with or without JavaScript."""
