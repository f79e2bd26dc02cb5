"""Directory: districts, schools, people, enrollment codes and devices, admin operations, the audit log.

`from sync.server import directory` gives the people operations (people.py) by name; admin.py holds the
admin operations, audit.py the one way to write the audit log, routes.py the admin API.
"""
from sync.server.directory.people import (  # noqa: F401
    DirectoryError,
    create_district,
    create_school,
    create_user,
    issue_code,
    enroll,
    mark_synced,
    revoke_device,
    CONSOLE,
)
