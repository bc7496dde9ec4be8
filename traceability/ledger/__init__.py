"""The transparency log (`log`), the one place writes are sequenced (`sequencer`), lot records
read back (`records`) and proof bundles (`bundles`)."""
