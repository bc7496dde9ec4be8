"""What a scan of a label reaches: a lot's page (cached while its records are unchanged), its
QR codes, label sheets and proof bundle."""
