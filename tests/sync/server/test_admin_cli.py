"""`learnwalk admin ...`, `serve`, `enroll` and `sync` as a user runs them: ids alone on stdout, errors in one sentence."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support import serverproc as harness

UUID = re.compile(r"^[0-9a-f-]{36}$")


def lw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([harness.LEARNWALK, *args], capture_output=True, text=True, timeout=120)


def test_admin_commands_print_only_the_new_id_or_code(db_url):
    district = lw("admin", "create-district", "Springfield", "--db", db_url)
    assert district.returncode == 0 and UUID.match(district.stdout.strip()) and district.stdout.count("\n") == 1
    d = district.stdout.strip()
    school = lw("admin", "create-school", "--district", d, "Lincoln", "--db", db_url).stdout.strip()
    user = lw("admin", "create-user", "--district", d, "--role", "lead", "lead@example.org", "--db", db_url)
    code = lw("admin", "enrollment-code", "--user", user.stdout.strip(), "--db", db_url)
    assert UUID.match(school) and UUID.match(user.stdout.strip())
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}\n", code.stdout)


def test_admin_errors_are_one_plain_sentence_with_exit_1_and_change_nothing(db_url, server_db):
    from sync.server.models import User

    d = server_db.district()
    before = len(server_db.rows(User))
    bad_role = lw("admin", "create-user", "--district", d.id, "--role", "boss", "x@example.org", "--db", db_url)
    bad_email = lw("admin", "create-user", "--district", d.id, "--role", "lead", "not-an-email", "--db", db_url)
    no_district = lw("admin", "create-school", "--district", "nope", "X", "--db", db_url)
    for out, words in ((bad_role, "observer, lead, admin"), (bad_email, "not valid"), (no_district, "does not exist")):
        assert (out.returncode, out.stdout) == (1, "")
        assert words in out.stderr and out.stderr.count("\n") == 1
    assert len(server_db.rows(User)) == before


def test_a_missing_option_is_a_usage_error_with_exit_2(db_url):
    assert lw("admin", "create-school", "X", "--db", db_url).returncode == 2


def test_enroll_and_sync_commands_print_the_device_id_and_the_round_as_json(server, district, tmp_path):
    code = district.code(district.user("observer"))
    enrolled = lw("enroll", "--data-dir", str(tmp_path), "--server", server.url, "--code", code)
    assert enrolled.returncode == 0 and UUID.match(enrolled.stdout.strip())
    synced = lw("sync", "--data-dir", str(tmp_path), "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["pushed"] == {"applied": 0, "duplicate": 0, "rejected": 0} and report["pulled"] >= 3
    assert report["pending"] == 0 and report["rejected"] == []


def test_sync_to_an_unreachable_server_exits_1_with_the_reason_in_words(server, district, tmp_path):
    code = district.code(district.user("observer"))
    assert lw("enroll", "--data-dir", str(tmp_path), "--server", server.url, "--code", code).returncode == 0
    dev = harness.new_device(tmp_path)
    dev.sync.store.set_meta(server_url=f"http://127.0.0.1:{harness.free_port()}")
    out = lw("sync", "--data-dir", str(tmp_path))
    assert (out.returncode, out.stdout) == (1, "")
    assert "could not be reached" in out.stderr and "sync later" in out.stderr


def test_enroll_with_a_wrong_code_exits_1_and_leaves_the_device_unenrolled(server, tmp_path):
    out = lw("enroll", "--data-dir", str(tmp_path), "--server", server.url, "--code", "AAAA-BBBB-CCCC")
    assert out.returncode == 1 and "not valid" in out.stderr
    assert not harness.new_device(tmp_path).sync.status().enrolled


def test_serve_with_an_unreachable_database_says_so_and_exits_1():
    out = lw("serve", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--port", str(harness.free_port()))
    assert out.returncode == 1
    assert "could not be opened" in out.stderr and "nobody" not in out.stderr
    assert "Connection refused" in out.stderr and "Error" not in out.stderr  # the driver's words, no class name


def test_a_database_refusal_is_told_in_the_drivers_words_without_the_urls_user_or_password():
    if why := harness.pg_reachable():
        pytest.skip(why)
    url = harness.PG_ADMIN_URL.rsplit("@", 1)[1]  # host:port/db of the test server, with a user it does not have
    out = lw("admin", "create-district", "X", "--db", f"postgresql+psycopg://lw_nobody:s3cret-pw@{url}")
    assert (out.returncode, out.stdout) == (1, "")
    assert "could not be opened" in out.stderr and "does not exist" in out.stderr, out.stderr
    assert "lw_nobody" not in out.stderr and "s3cret-pw" not in out.stderr and "Error" not in out.stderr


def test_admin_commands_are_audited_as_cli_without_emails_or_codes(db_url, server_db):
    from sync.server.models import AuditLog

    d = lw("admin", "create-district", "Audited", "--db", db_url).stdout.strip()
    user = lw("admin", "create-user", "--district", d, "--role", "observer", "obs@example.org", "--db", db_url)
    code = lw("admin", "enrollment-code", "--user", user.stdout.strip(), "--db", db_url).stdout.strip()
    entries = [e for e in server_db.rows(AuditLog) if e.district_id == d]
    assert [e.action for e in entries] == ["district.create", "user.create", "enrollment.issue"]
    assert {e.actor for e in entries} == {"cli"}
    assert not any("obs@example.org" in repr(e.after) or code in repr(e.after) for e in entries)
