"""What people read: a lot through the API (`lots`), its public page's view (`lot_page`), and
the regulators' findings, recalls and traces (`audit`)."""
