"""Files handed to the user's own browser as downloads (every export, the debrief PDF): one helper for all.

Flet's FilePicker.save_file with the bytes: in the browser it starts a download under the given name; on a
desktop it asks where to save. Nothing is written on the machine that runs the app (in web mode that is the
host, not the user's tablet).
"""
from __future__ import annotations

import flet as ft

from app.views.context import AppContext, message_of


async def deliver(ctx: AppContext, name: str, data: bytes, what: str) -> bool:
    """Hand `data` to the user as the file `name`; False (said on screen) when this platform could not."""
    ext = name.rsplit(".", 1)[-1]
    picker = ft.FilePicker()  # a page service
    try:
        await picker.save_file(dialog_title=f"Save {what}", file_name=name, src_bytes=data,
                               file_type=ft.FilePickerFileType.CUSTOM, allowed_extensions=[ext])
    except Exception as exc:  # e.g. a platform without a save dialog: say so, never a blank failure
        ctx.error(message_of(exc, f"saving {what}"))
        return False
    return True
