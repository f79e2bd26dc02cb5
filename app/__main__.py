"""`python -m app [options]`: the same as `learnwalk app [options]` (how a packaged build starts the client)."""
import sys

from app.cli import cli

if __name__ == "__main__":
    cli(args=["app", *sys.argv[1:]], prog_name="learnwalk")
