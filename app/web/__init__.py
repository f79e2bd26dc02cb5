"""The client as an offline web app: Python (Pyodide) in the tablet's browser, built into a static site.

Runs in the browser: `boot` (the entry the site starts), `storage` (the store's folder on the browser's
IndexedDB-backed file system). Runs on the build machine: `build` (`learnwalk build-web`, `make pwa`) with its
neighbours `postprocess`, `wheels.txt`, `sw.js`. docs/tablets.md says how to serve and install the result.
"""
