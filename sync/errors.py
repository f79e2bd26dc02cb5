"""LearnwalkError: the one root of every error a user can see, on the device, the server and in rubric files.

Its message is one plain sentence: what happened, where, and what to do next. Every face maps it once: the CLI
prints it and exits 1 (app.cli_errors.speaks), the app shows it in the screen's message line
(app.views.context.AppContext.guard), the HTTP API answers problem+json (sync.server.errors).
This module imports nothing, so rubrics/ and the server take the root without loading the device or the
protocol's models (sync.protocol re-exports it as part of the shared language).
"""
from __future__ import annotations


class LearnwalkError(Exception):
    """Something the user can act on went wrong; str(error) says what, and what to do next."""
