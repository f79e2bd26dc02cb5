"""The Admin screen's view-model against the real server: publish with problems pointing at their lines, exports
kept in memory for the browser and named for their school and dates, names instead of ids, roles."""
from __future__ import annotations

from app.viewmodels.admin import AdminVM
from tests.support import readback, serverdata

BAD = ("domain,domain_title,lookfor_id,text,label,scale\n"
       "core,Core,vm.one,Students talk.,Talk,presence\n"
       "core,,vm.two,Students write.,Writing,often\n")


def vm_for(world, member, tmp_path) -> AdminVM:
    return AdminVM({"server_url": world.url, "token": member.token, "role": member.role})


def test_a_rubric_with_a_problem_shows_it_and_a_fixed_one_publishes(world, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.refresh()
    before = list(vm.state.rubrics)
    vm.filename, vm.text = "vm-walk.csv", BAD
    vm.publish()
    assert vm.state.error and vm.state.problems and vm.state.problems[0].startswith("vm-walk.csv:3: ")
    listed = vm.problem_list()
    assert listed[0].line == 3 and listed[0].text.startswith("Line 3: ") and "often" in listed[0].text
    marked = [t for t in vm.numbered_lines() if t.problems]
    assert [t.number for t in marked] == [3] and marked[0].text == BAD.splitlines()[2]
    vm.refresh()
    assert vm.state.rubrics == before
    vm.text = BAD.replace("often", "presence")
    vm.publish()
    assert not vm.state.error and "vm-walk@1" in vm.state.message and not vm.state.problems
    assert ("vm-walk", 1) in {(r["rubric_id"], r["version"]) for r in vm.state.rubrics}


def test_an_export_arrives_whole_in_memory_named_for_its_school_and_dates(world, server_db, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.refresh()
    vm.fmt = "xlsx"
    got = vm.export()
    assert not vm.state.error, vm.state.message
    assert got.name.startswith("learnwalk-all-schools-") and got.name.endswith(".xlsx")
    assert vm.state.received == len(got.data) and got.name in vm.state.message
    # the progress line under the Export button counts what has arrived, in the units a person reads
    assert vm.progress_text == f"Preparing the export... {len(got.data) / 1024:.0f} KB received so far."
    vm.state.received = 3 * 1024 * 1024 + 200 * 1024
    assert vm.progress_text == "Preparing the export... 3.2 MB received so far."
    vm.state.received = len(got.data)
    assert readback.cells("xlsx", got.data) == serverdata.expected_ratings(server_db.engine, world.north.id)
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere on this machine

    school_id, school_name = vm.school_choices()[1]
    vm.school, vm.fmt, vm.date_from, vm.date_to = school_id, "csv", "2026-09-01", "2026-12-20"
    got = vm.export()
    assert got.name == f"learnwalk-{school_name.lower().replace(' ', '-')}-2026-09-01-to-2026-12-20.csv"
    assert {r["school_id"] for r in readback.csv_rows(got.data)} == {school_id}
    vm.date_from = "yesterday"
    assert vm.export() is None
    assert vm.state.error and "YYYY-MM-DD" in vm.state.message


def test_a_rubric_file_from_the_picker_becomes_the_text_to_publish_or_is_refused_in_words(world, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    assert vm.load_file("walk.csv", ("\ufeff" + BAD).replace("\n", "\r\n").encode())
    assert (vm.filename, vm.text) == ("walk.csv", BAD) and "3 lines" in vm.state.message
    assert not vm.load_file("walk.docx", b"x") and "not a rubric file" in vm.state.message
    assert not vm.load_file("walk.csv", b"\xff\xfe\x00") and "UTF-8" in vm.state.message
    assert vm.text == BAD  # a refused file changes nothing


def test_devices_people_and_the_audit_log_read_in_names(world, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.refresh()
    emails = {u["email"] for u in vm.state.users}
    rows = vm.device_rows()
    assert rows and all(r.owner in emails for r in rows)
    assert {r.role for r in rows} <= {"admin", "debrief lead", "observer"}
    assert all(r.platform and not r.platform.endswith("device") for r in rows)
    lines = vm.audit_lines()
    assert lines and not any(u["id"] in line for u in vm.state.users for line in lines)  # no raw user ids


def test_only_an_enrolled_admin_may_use_the_screen(world, tmp_path):
    assert vm_for(world, world.north.members["lead"], tmp_path).unavailable.endswith("enrolled as lead.")
    assert "not enrolled" in AdminVM({}, tmp_path).unavailable
    assert vm_for(world, world.north.members["admin"], tmp_path).unavailable == ""


def test_settings_and_revoke_go_through_and_say_so(world, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.refresh()
    vm.save_settings("x", True, False)
    assert vm.state.error and "whole number" in vm.state.message
    vm.save_settings(str(vm.state.settings["small_cell_threshold"]), True, False)
    assert not vm.state.error and vm.state.message.startswith("Settings saved")
    spare = serverdata.enroll(world.url, vm._client(world.url, world.north.members["admin"].token)
                              .enrollment_code(world.north.members["observer2"].user_id)["code"])
    vm.revoke(spare["device_id"])
    assert not vm.state.error and "revoked" in vm.state.message
    assert {d["id"]: d for d in vm.state.devices}[spare["device_id"]]["revoked_at"]
    assert "revoked" in vm.device_line({"id": "d", "user_id": "u", "name": "", "revoked_at": "2026-01-01T00:00:00"})


def test_an_audited_rating_edit_reads_as_a_sentence_with_its_old_and_new_value():
    line = AdminVM.audit_line({"at": "2026-12-02T18:00:00+00:00", "action": "rating.edited", "kind": "rating",
                               "record_id": "r-1", "actor": "d-1", "before": {"value": "2", "not_observed": False},
                               "after": {"value": None, "not_observed": True}})
    assert line == ("2026-12-02 18:00 UTC · A synced rating was changed by its own device from '2' to not observed "
                    "(rating r-1, device d-1).")
