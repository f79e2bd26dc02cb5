"""The device core: one Device opened from a data folder wires the store and every service over it."""
from __future__ import annotations

import pytest
import typer

from app.cli_errors import speaks
from app.device import Device
from app.store.db import DB_FILENAME, StoreError
from sync.errors import LearnwalkError


def test_a_device_opened_twice_on_one_folder_sees_what_the_first_recorded(tmp_path):
    with Device.open(tmp_path / "dev") as first:
        school = first.capture.add_school("Lincoln Elementary")
        walk = first.capture.create_walk(school_id=school.id, rubric_id="deeper-learning", rubric_version=1,
                                         focus=["dl.interactive", "dl.affirming"])
    with Device.open(tmp_path / "dev") as again:
        assert [w.id for w in again.capture.walks()] == [walk.id]
        assert again.debrief.tally(walk.id).total_visits == 0
        assert again.sync.status().pending > 0 and not again.sync.status().enrolled
        assert again.data_dir == tmp_path / "dev"


def test_every_service_of_a_device_shares_its_one_catalog(tmp_path):
    with Device.open(tmp_path / "dev") as device:
        assert device.capture.catalog is device.catalog is device.sync.store.catalog


def test_opening_an_existing_device_where_there_is_none_creates_nothing_and_says_where(tmp_path):
    with pytest.raises(StoreError, match="no learnwalk data here") as err:
        Device.open(tmp_path / "empty", existing=True)
    assert str(tmp_path / "empty") in str(err.value)
    assert not (tmp_path / "empty" / DB_FILENAME).exists()


def test_a_cli_command_turns_any_learnwalk_error_into_its_sentence_and_exit_1(capsys):
    @speaks
    def command() -> None:
        raise StoreError("the data file is locked; close the other app and try again")

    with pytest.raises(typer.Exit) as done:
        command()
    assert done.value.exit_code == 1
    assert capsys.readouterr().err == "the data file is locked; close the other app and try again\n"


def test_every_user_facing_error_class_derives_from_the_one_root():
    from app.debrief.tally import TallyError
    from app.store.services import ServiceError, StorageFull
    from app.sync_service import SyncError
    from rubrics import RubricInvalid
    from sync.admin_client import AdminClientError
    from sync.client import SyncFailed
    from sync.server.directory.admin import AdminError
    from sync.server.directory.people import DirectoryError
    from sync.server.errors import ApiError
    from sync.protocol.export import ExportError
    from sync.server.ingest.rules import Refused

    for cls in (StoreError, ServiceError, StorageFull, TallyError, SyncError, SyncFailed, AdminClientError,
                RubricInvalid, ApiError, ExportError, Refused, AdminError, DirectoryError):
        assert issubclass(cls, LearnwalkError), cls
    assert issubclass(StorageFull, StoreError) and issubclass(ExportError, ValueError)  # old relations kept
