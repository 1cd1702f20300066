"""Event sources: audit log files (and --follow), the audit webhook receiver, Falco JSON lines."""

from cloudward.runtime.events.audit_file import read_audit_file, read_audit_files
from cloudward.runtime.events.model import EventRecord, SourceProblem

__all__ = ["EventRecord", "SourceProblem", "read_audit_file", "read_audit_files"]
