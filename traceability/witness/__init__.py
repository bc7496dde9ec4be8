"""A witness (protocol §8, c2sp.org/tlog-witness): cosigns a log's checkpoint only when it
extends the last one it cosigned for that log. Its own small HTTP app, with no database:
its key and each log's latest cosigned checkpoint are files in its data dir.

`submission` reads an add-checkpoint request, `state` keeps each log's latest cosigned
checkpoint, `witness` decides and cosigns, `app` serves it over HTTP.
"""
