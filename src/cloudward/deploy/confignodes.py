"""Typed access to the YAML nodes of the ``admission`` section: the shared config node parser.

``core.config`` hands stage-owned sections over as nodes (``Config.section``),
so line numbers come straight from the user's file.
"""

from cloudward.core.config import NULL_TAG as NULL
from cloudward.core.config import NodeParser

__all__ = ["NULL", "NodeParser"]
