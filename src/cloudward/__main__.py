"""``python -m cloudward``."""

from cloudward.cli.main import entry

entry()
