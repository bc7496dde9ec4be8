"""The one exception that verification raises."""


class VerificationError(Exception):
    """A signature, proof, note, checkpoint or log entry failed verification.

    The message says exactly which check failed, so that an auditor can act on it.
    """
