"""Guards for YAML we do not control, shared by every reader of it (manifests, configs, rules, policies).

libyaml's composer recurses in C once per nesting level: a few hundred thousand
``[`` crash the interpreter (a segfault, not an exception). And aliases can make
a small document expand to billions of nodes for anything that walks it ("billion
laughs"). ``check_depth`` runs before composing, ``check_aliases`` on the
composed root; both raise ``error`` (``InputError`` unless the caller's own
error type is given) naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml

from cloudward.core.errors import InputError

MAX_DEPTH = 500
MAX_ALIAS_EXPANSION = 1_000_000

_DEEP_BLOCK = re.compile(rf"(?m)^[ \t?:-]{{{MAX_DEPTH // 2}}}")

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

ErrorFactory = Callable[..., Exception]


def check_depth(text: str, file: str, error: ErrorFactory = InputError) -> None:
    """Refuse nesting that would crash libyaml's recursive composer.

    Nesting needs a '[' or '{' per flow level, or indentation per block level,
    so cheap counts rule out deep nesting for ordinary files; only suspicious
    ones pay for an event-level scan.
    """
    if text.count("[") + text.count("{") < MAX_DEPTH // 2 and not _DEEP_BLOCK.search(text):
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise error(f"YAML nested deeper than {MAX_DEPTH} levels; refusing to read it",
                        file=file, line=line)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return  # the real parse reports syntax errors with their position


def check_aliases(root: yaml.Node, file: str, line: int | None, error: ErrorFactory = InputError) -> None:
    """Refuse documents whose aliases expand to more than MAX_ALIAS_EXPANSION nodes."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(sizes[id(c)] for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)
            sizes[key] = total
            if total > MAX_ALIAS_EXPANSION:
                raise error(f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} nodes "
                                 "(an alias bomb?); refusing to read the document", file=file, line=line)
            continue
        if key in open_:
            raise error("recursive YAML alias (a node that contains itself); remove the cycle",
                        file=file, line=node.start_mark.line + 1)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        sizes[key] = 0
        open_.add(key)
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, False) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.append((k, False))
                stack.append((v, False))
