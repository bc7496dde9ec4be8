"""Photo evidence as bytes: what a file is, its upright pixels, metadata-free public copies,
a perceptual hash for spotting reused pictures, and the EXIF a regulator weighs.

Pure functions over bytes: no web framework, no database. Bad input raises
`traceability.errors.ApiError` (4xx) or, for metadata, simply yields nothing.
"""
