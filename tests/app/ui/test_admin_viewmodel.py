"""The Admin screen's view-model against the real server: publish with problems shown, exports saved, roles."""
from __future__ import annotations

from app.viewmodels.admin import AdminVM
from tests.support import readback, serverdata

BAD = ("domain,domain_title,lookfor_id,text,label,scale\n"
       "core,Core,vm.one,Students talk.,Talk,presence\n"
       "core,,vm.two,Students write.,Writing,often\n")


def vm_for(world, member, tmp_path) -> AdminVM:
    return AdminVM({"server_url": world.url, "token": member.token, "role": member.role}, tmp_path / "exports")


def test_a_rubric_with_a_problem_shows_it_and_a_fixed_one_publishes(world, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.refresh()
    before = list(vm.state.rubrics)
    vm.filename, vm.text = "vm-walk.csv", BAD
    vm.publish()
    assert vm.state.error and vm.state.problems and vm.state.problems[0].startswith("vm-walk.csv:3: ")
    vm.refresh()
    assert vm.state.rubrics == before
    vm.text = BAD.replace("often", "presence")
    vm.publish()
    assert not vm.state.error and "vm-walk@1" in vm.state.message and not vm.state.problems
    assert ("vm-walk", 1) in {(r["rubric_id"], r["version"]) for r in vm.state.rubrics}


def test_an_export_is_saved_whole_to_the_devices_exports_folder(world, server_db, tmp_path):
    vm = vm_for(world, world.north.members["admin"], tmp_path)
    vm.fmt = "xlsx"
    vm.export()
    assert not vm.state.error, vm.state.message
    saved = vm.state.last_export
    assert saved.parent == tmp_path / "exports" and [p.name for p in saved.parent.iterdir()] == [saved.name]
    assert readback.cells("xlsx", saved.read_bytes()) == serverdata.expected_ratings(server_db.engine, world.north.id)
    vm.date_from = "yesterday"
    vm.export()
    assert vm.state.error and "YYYY-MM-DD" in vm.state.message


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
    assert "revoked" in vm.device_line({"name": "", "revoked_at": "2026-01-01T00:00:00"})


def test_an_audited_rating_edit_reads_as_a_sentence_with_its_old_and_new_value():
    line = AdminVM.audit_line({"at": "2026-12-02T18:00:00+00:00", "action": "rating.edited", "kind": "rating",
                               "record_id": "r-1", "actor": "d-1", "before": {"value": "2", "not_observed": False},
                               "after": {"value": None, "not_observed": True}})
    assert line == ("2026-12-02 18:00 · A synced rating was changed by its own device from '2' to not observed "
                    "(rating r-1, device d-1).")
