"""The folders a run reads and writes, checked before anything is done.

A mistyped inbox must not look like a quiet quarter: a run whose inbox is missing, is a file,
or cannot be read stops at once with one sentence naming the folder, and creates nothing.
An output folder that cannot be written is refused the same way, before any work is done.
"""

from __future__ import annotations

import os
from pathlib import Path


class FolderProblem(ValueError):
    """A folder a run needs is missing or unusable; the message says which and why."""


def inbox_problem(inbox: Path) -> str | None:
    """Why `inbox` cannot be read as an inbox (None when it can)."""
    inbox = Path(inbox)
    if not inbox.exists():
        return f"The inbox {inbox} does not exist: check the folder name (nothing was created)."
    if not inbox.is_dir():
        return f"The inbox {inbox} is a file, not a folder: give the folder the returns go to."
    if not os.access(inbox, os.R_OK | os.X_OK):
        return f"The inbox {inbox} cannot be read by this account: check its permissions."
    try:
        with os.scandir(inbox) as entries:  # closed at once, not left to the collector
            next(entries, None)
    except OSError as exc:
        return f"The inbox {inbox} cannot be read: {exc.strerror or exc}."
    return None


def output_problem(output: Path) -> str | None:
    """Why nothing could be written under `output` (None when it can, or can be created)."""
    output = Path(output)
    if output.exists():
        if not output.is_dir():
            return f"The output folder {output} is a file, not a folder: choose another."
        if not os.access(output, os.W_OK | os.X_OK):
            return f"The output folder {output} cannot be written by this account."
        return None
    parent = output.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"The output folder {output} cannot be created: {parent} is not writable."
    return None


def check_inbox(inbox: Path) -> Path:
    """`inbox`, or FolderProblem when it is not a readable folder."""
    problem = inbox_problem(inbox)
    if problem:
        raise FolderProblem(problem)
    return Path(inbox)


def check_output(output: Path) -> Path:
    """`output`, or FolderProblem when it cannot be written (it is not created here)."""
    problem = output_problem(output)
    if problem:
        raise FolderProblem(problem)
    return Path(output)
