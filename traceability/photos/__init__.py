"""Photo evidence: what a file is and shows (`images`, `exif`), where its bytes are kept
(`files`), and taking uploads and citations in (`service`)."""
