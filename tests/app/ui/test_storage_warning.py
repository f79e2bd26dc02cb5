"""The Walks screen's warning when the browser has not agreed to keep its storage (the browser build), on a real
device store: it says what could happen, how many visits are not yet on the server, and how to fix it."""
from __future__ import annotations

from sqlmodel import Session, delete

from app.store.models import Outbox
from app.viewmodels.walks import STORAGE_AT_RISK_TITLE, WalksVM


def test_no_warning_where_storage_is_kept_or_not_a_browser(service, walk_id):
    service.start_visit(walk_id)
    assert WalksVM(service).storage_warning is None  # a file on disk: the desktop, a native build
    assert WalksVM(service, storage_persistent=True).storage_warning is None  # e.g. an installed Home Screen app


def test_refused_storage_warns_in_words_with_the_count_of_visits_not_yet_sent_and_the_fix(service, walk_id):
    first = service.start_visit(walk_id).id
    second = service.start_visit(walk_id).id
    service.rate(first, "dl.engaged", "3")
    service.rate(second, "dl.engaged", "2")
    service.add_note(second, "Groups at tables", "dl.engaged")
    said = WalksVM(service, storage_persistent=False).storage_warning
    assert said.startswith("This browser has not agreed to keep learnwalk's storage, so it may delete the visits "
                           "on this tablet")
    assert "2 visits are not yet sent to the server." in said
    assert "Home Screen" in said and "sync often" in said
    assert STORAGE_AT_RISK_TITLE == "Visits on this tablet can still be lost"


def test_the_count_follows_the_outbox_a_rating_alone_counts_its_visit_once(service, walk_id):
    visit = service.start_visit(walk_id).id
    with Session(service.engine) as s:  # as after a sync round that sent the visit itself
        s.exec(delete(Outbox).where(Outbox.kind != "walk"))
        s.commit()
    vm = WalksVM(service, storage_persistent=False)
    assert "No visit on this tablet is waiting to be sent." in vm.storage_warning
    service.rate(visit, "dl.engaged", "4")
    service.rate(visit, "dl.interactive", "3")
    vm.refresh()
    assert "1 visit is not yet sent to the server." in vm.storage_warning
    assert service.unsent_visits() == 1
