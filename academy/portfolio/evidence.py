"""The old import path of ``academy.portfolio.entries.evidence``, kept for other packages
(tests, benchmarks and account erasure import it); new code imports the new path."""

from academy.portfolio.entries.evidence import (  # noqa: F401
    MAX_FILES_PER_ENTRY,
    EvidenceRefused,
    add_evidence,
    check_file,
    clean_filename,
    delete_evidence,
    describe_limit,
    discard_files,
    get_own_evidence,
    max_bytes,
    read_upload,
)
