# SPDX-License-Identifier: Apache-2.0
"""Errors the command line reports as one line and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """A problem the user can fix: bad parameter, missing tool, unwritable folder.

    The message is one line that says what is wrong and how to fix it.
    """
