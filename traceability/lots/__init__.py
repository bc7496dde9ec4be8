"""Plots, lots and events: what clients send (`inputs`), the records they become (`service`),
what a lot was made from (`lineage`), and where a lot is on the web (`urls`)."""
