"""Plain-Python view-models, one per screen: what each screen shows and does, with no Flet import.

Views read these objects and call their methods; tests drive them directly against a real device store.
A method that cannot do what the user asked raises a LearnwalkError (ServiceError, SyncError, TallyError...)
with one plain sentence to show.
"""
from app.store.services import ServiceError

__all__ = ["ServiceError"]
