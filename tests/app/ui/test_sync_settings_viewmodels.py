"""The Sync and Settings screens' view-models against a real server: enroll, sync, and errors in words."""
from __future__ import annotations

import pytest

from sync.errors import LearnwalkError
from app.viewmodels.capture import CaptureVM
from app.viewmodels.settings import SettingsVM
from app.viewmodels.sync import SyncVM
from app.viewmodels.walk import WalkVM


@pytest.fixture
def sync(device):
    return device.sync


def test_an_unenrolled_device_says_so_and_sync_now_explains_what_to_do(sync):
    vm = SyncVM(sync)
    assert not vm.enrolled and "not enrolled" in vm.headline
    with pytest.raises(LearnwalkError, match="enroll it in Settings"):
        vm.sync_now()
    assert SettingsVM(sync).enrollment_text.startswith("Not enrolled")


def test_enrolling_with_a_bad_address_or_no_code_is_refused_in_words(sync):
    vm = SettingsVM(sync)
    vm.server_url, vm.code = "walks.district.org", "ABCD-1234"
    with pytest.raises(LearnwalkError, match="http:// or https://"):
        vm.enroll()
    vm.server_url, vm.code = "http://127.0.0.1:9", ""
    with pytest.raises(LearnwalkError, match="enrollment code"):
        vm.enroll()
    assert not sync.status().enrolled


def test_settings_offers_the_address_a_web_build_was_made_for_until_the_device_is_enrolled(sync, sync_server):
    assert SettingsVM(sync, server_hint="https://walks.district.org").server_url == "https://walks.district.org"
    district = sync_server.db.district()
    first = SettingsVM(sync, server_hint="https://walks.district.org")
    first.server_url, first.code = sync_server.url, district.code(district.user("observer"))
    first.enroll()
    assert SettingsVM(sync, server_hint="https://walks.district.org").server_url == sync_server.url


def test_enroll_then_sync_now_sends_a_finished_visit_and_leaves_nothing_pending(service, sync, sync_server):
    district = sync_server.db.district()
    settings = SettingsVM(sync)
    settings.server_url, settings.code = sync_server.url, district.code(district.user("observer"))
    said = settings.enroll()
    assert said.startswith("Enrolled.") and "as observer" in said and settings.code == ""

    status = SyncVM(sync)
    assert status.sync_now().startswith("Synced:")  # the first round brings the district's schools
    [school] = service.schools()
    walk_id = service.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                                  focus=["dl.interactive", "dl.affirming"]).id
    visit = CaptureVM(service, WalkVM(service, walk_id).new_visit())
    visit.tap("dl.interactive", "3")
    visit.finish()
    status.refresh()
    assert status.status.pending >= 3 and "Waiting to send" in status.headline
    result = status.sync_now()
    assert result.startswith("Synced:") and "sent" in result
    assert status.status.pending == 0 and status.headline == "Everything is sent."
    assert dict(status.facts)["Last successful sync"] == "just now"


def test_a_wrong_code_is_refused_in_words_and_the_device_stays_unenrolled(sync, sync_server):
    vm = SettingsVM(sync)
    vm.server_url, vm.code = sync_server.url, "WRONG-CODE-0000"
    with pytest.raises(LearnwalkError) as err:
        vm.enroll()
    assert str(err.value) and "\n" not in str(err.value)
    assert not sync.status().enrolled


def test_refused_changes_are_listed_and_sent_again_once_the_cause_is_fixed(service, sync, sync_server):
    from sqlmodel import Session

    from sync.server.models import School as ServerSchool

    district = sync_server.db.district()
    settings = SettingsVM(sync)
    settings.server_url, settings.code = sync_server.url, district.code(district.user("lead"))
    settings.enroll()
    local = service.add_school("Annex (added on this tablet)")  # a school the district does not know yet
    service.create_walk(school_id=local.id, rubric_id="deeper-learning", rubric_version=1, focus=["dl.affirming"])
    vm = SyncVM(sync)
    assert "refused" in vm.sync_now()
    [row] = vm.rejected
    assert row.what.startswith("Walk") and row.reason
    with Session(sync_server.db.engine) as s:  # the admin adds the school to the district under that id
        s.add(ServerSchool(id=local.id, district_id=district.id, name=local.name))
        s.commit()
    assert vm.retry_refused() == "1 refused change will be sent again at the next sync."
    assert vm.rejected == [] and vm.status.pending == 1
    assert "refused" not in vm.sync_now()
    assert vm.rejected == [] and vm.status.pending == 0
    with pytest.raises(LearnwalkError, match="no refused changes"):
        vm.retry_refused()


def test_a_device_whose_sync_could_not_start_says_so_and_that_capture_goes_on():
    """Device.sync is None only when the sync service failed to start: the screens say that, truthfully."""
    sync_vm, settings = SyncVM(None), SettingsVM(None)
    assert not sync_vm.available and sync_vm.headline.startswith("Sync could not start on this device")
    assert "still saved here" in sync_vm.headline and "Restart the app" in sync_vm.headline
    assert settings.enrollment_text.startswith("Sync could not start on this device")
    with pytest.raises(LearnwalkError, match="could not start.*nothing was sent"):
        sync_vm.sync_now()
    with pytest.raises(LearnwalkError, match="could not start.*cannot be enrolled"):
        settings.enroll()


def test_a_sync_that_meets_a_full_disk_shows_the_same_sentence_as_the_cli(device, sync, sync_server):
    """The Sync screen's "Sync now" and headline say what `learnwalk sync` says (tests/e2e/test_sync_storage_errors)."""
    from sqlalchemy import event

    district = sync_server.db.district()
    settings = SettingsVM(sync)
    settings.server_url, settings.code = sync_server.url, district.code(district.user("admin"))
    settings.enroll()
    with device.engine.connect() as con:
        pages = con.exec_driver_sql("PRAGMA page_count").scalar()
    device.engine.dispose()  # every connection from now on is capped at the file's size: SQLITE_FULL
    event.listen(device.engine, "connect", lambda c, _r: c.execute(f"PRAGMA max_page_count = {pages}"))
    full = ("The sync round stopped because the device storage is full; everything on this device is kept; free "
            "some space on it and sync again.")
    vm = SyncVM(sync)
    with pytest.raises(LearnwalkError) as caught:
        vm.sync_now()  # the first round pulls the district's schools: more than the file can take
    assert str(caught.value) == full
    assert vm.headline == f"The last sync did not work: {full}"


def test_a_sync_brings_the_districts_people_and_choosing_one_for_a_walk_grants_them_the_walk(
        service, sync, sync_server):
    from app.store.people import known_people
    from app.viewmodels.new_walk import NewWalkVM

    district = sync_server.db.district()
    lead = district.user("lead")
    settings = SettingsVM(sync)
    settings.server_url, settings.code = sync_server.url, district.code(district.user("observer"))
    settings.enroll()
    assert known_people(service.engine) == []
    SyncVM(sync).sync_now()
    people = {p.id: p for p in known_people(service.engine)}
    assert lead in people and people[lead].role == "lead" and "@" in people[lead].email
    vm = NewWalkVM(service)
    assert service.user_id() not in {p.value for p in vm.people}  # the creator is on the walk already
    vm.choose_rubric("deeper-learning@2")
    vm.toggle_focus("dl.interactive")
    vm.toggle_focus("dl.affirming")
    vm.toggle_person(lead)
    vm.team_text = "Visiting coach"
    walk_id = vm.start()
    assert service.walk(walk_id).team == [lead, "Visiting coach"]
    SyncVM(sync).sync_now()
    from sqlmodel import Session, select
    from sync.server.models import WalkMember
    with Session(sync_server.db.engine) as s:  # the server made the chosen person a member of the walk
        members = set(s.exec(select(WalkMember.user_id).where(WalkMember.walk_id == walk_id)))
    assert lead in members


def test_an_unreachable_server_is_told_in_words_and_the_badge_says_offline(service, sync, sync_server):
    import re
    import socket

    from app.viewmodels.status import badge_of

    district = sync_server.db.district()
    settings = SettingsVM(sync)
    settings.server_url, settings.code = sync_server.url, district.code(district.user("observer"))
    settings.enroll()
    SyncVM(sync).sync_now()
    assert badge_of(sync, service.engine).label == "Online"
    with socket.socket() as free:  # a port nothing listens on: the network is there, the server is not
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    sync.store.set_meta(server_url=f"http://127.0.0.1:{closed}")
    vm = SyncVM(sync)
    with pytest.raises(LearnwalkError) as caught:
        vm.sync_now()
    said = str(caught.value)
    assert "could not be reached" in said and not re.search(r"[A-Z][a-z]+(Error|Exception)\b", said)
    assert vm.headline == f"The last sync did not work: {said}"
    badge = badge_of(sync, service.engine)
    assert badge.label == "Offline" and badge.says.startswith("Offline:")
