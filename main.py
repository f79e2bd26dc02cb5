"""The native app's entry: `flet build apk|aab|ipa` runs this file ([tool.flet] in pyproject.toml).

The same app as `learnwalk app` in a window, with its data in FLET_APP_STORAGE_DATA (the app's own folder).
"""
from app.main import run
from app.store.db import default_data_dir

run(default_data_dir(), web=False)
