"""The look: Jinja2 templates, translations (zh-CN, en), QR codes and labels, rendered from
plain view objects. It never imports `traceability` and has no database access of its own.

Its first pages come with the public provenance page issue; until then it holds nothing.
"""
