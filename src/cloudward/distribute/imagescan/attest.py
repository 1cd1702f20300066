"""The predicate of a signed image-scan attestation: cosign's vulnerability scan record (``vuln/v1``).

cosign defines the envelope of a scan result — who scanned (``scanner``), with
which database (``scanner.db``), when (``metadata``) — and leaves ``scanner.result``
to the scanner: ours is the JSON report (schema in report/report.schema.json),
so a verifier gets the same findings ``image scan --format json`` prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import cloudward
from cloudward.core.report import ScanReport
from cloudward.distribute.vulndb import DbStatus
from cloudward.report.jsonreport import report_dict

SCANNER_URI = "pkg:pypi/cloudward"


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vuln_predicate(report: ScanReport, *, started: dt.datetime, finished: dt.datetime, db: DbStatus | None,
                   parameters: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``https://cosign.sigstore.dev/attestation/vuln/v1`` predicate for one scan.

    ``db`` is the database that was matched against (its sources' URLs and update
    time identify its state; local file paths are not published). ``environ`` lets
    CI runs record their run URL as the invocation, as SLSA provenance does.
    """
    env = environ or {}
    urls = sorted({s.location for s in db.sources if s.location.startswith(("https://", "http://"))}) if db else []
    invocation_uri = ""
    if env.get("GITHUB_RUN_ID"):
        invocation_uri = (f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY', '')}"
                          f"/actions/runs/{env['GITHUB_RUN_ID']}")
    elif env.get("CI_JOB_URL"):
        invocation_uri = env["CI_JOB_URL"]
    return {
        "invocation": {"parameters": list(parameters), "uri": invocation_uri, "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": f"{SCANNER_URI}@{cloudward.__version__}",
            "version": cloudward.__version__,
            "db": {"uri": " ".join(urls), "version": (db.updated_at or "") if db else ""},
            "result": report_dict(report),
        },
        "metadata": {"scanStartedOn": _stamp(started), "scanFinishedOn": _stamp(finished)},
    }
