// learnwalk's python.js (app/web/postprocess.py writes it over flet 1.0.5's, whose hash it checks first).
// The only change from flet's: the Python worker starts as soon as the page runs this script, so Pyodide boots
// and the app's modules load while Flutter's engine is still loading, instead of after it (flet starts the
// worker only when the engine calls jsConnect). jsConnect then adopts that worker when the engine asks with
// the arguments the early start assumed ({}: what flet 1.0.5's engine passes for a published app); otherwise
// it drops it and starts one as flet does. Messages the worker sends before the engine connects are kept and
// handed over in order.
let _apps = {};
let _documentUrl = document.URL;

function startWorker(args) {
    const app = { dartOnMessage: null, pending: [], error: undefined };
    app.worker = new Worker(
        (flet.entrypointBaseUrl.endsWith("/") ?
            flet.entrypointBaseUrl.slice(0, -1) : flet.entrypointBaseUrl) + "/python-worker.js",
        { type: "module" });
    app.initialized = new Promise((resolve) => {
        app.worker.onmessage = (event) => {
            if (typeof event.data === "string") {
                if (event.data != "initialized") {
                    app.error = event.data;
                }
                resolve();
            } else if (app.dartOnMessage) {
                app.dartOnMessage(event.data);
            } else {
                app.pending.push(event.data);
            }
        };
    });
    app.worker.postMessage({
        pyodideUrl: flet.pyodideUrl || "pyodide/pyodide.mjs",
        args: args,
        documentUrl: _documentUrl,
        appPackageUrl: flet.appPackageUrl,
        micropipIncludePre: flet.micropipIncludePre,
        pythonModuleName: flet.pythonModuleName
    });
    return app;
}

const EARLY_ARGS = {};
let _early = (typeof flet !== "undefined" && flet.pyodide) ? startWorker(EARLY_ARGS) : null;

// This method is called from Dart on backend.connect()
// dartOnMessage is called on backend.onMessage
// it accepts "data" of type JSUint8Array
globalThis.jsConnect = async function (appId, args, dartOnMessage) {
    let app = _early;
    _early = null;
    if (app && JSON.stringify(args) !== JSON.stringify(EARLY_ARGS)) {
        console.log("learnwalk: the engine asked for other arguments; restarting the Python worker");
        app.worker.terminate();
        app = null;
    }
    if (!app) {
        console.log(`Starting up Python worker: ${appId}`);
        app = startWorker(args);
    }
    _apps[appId] = app;
    app.dartOnMessage = dartOnMessage;
    for (const data of app.pending.splice(0)) {
        dartOnMessage(data);
    }

    await app.initialized;

    if (app.error) {
        console.error("Python worker init error:", app.error);
        await jsDisconnect(appId);
        throw app.error;
    } else {
        console.log(`Python worker initialized: ${appId}`);
    }
}

// Called from Dart on backend.send
// data is a message serialized to JSUint8Array
globalThis.jsSend = async function (appId, data) {
    if (appId in _apps) {
        const app = _apps[appId];
        // Transfer the converted array's actual buffer. On Wasm, converting
        // the Dart packet's buffer separately would produce a different copy.
        // The sender must not access data after this call.
        app.worker.postMessage(data, [data.buffer]);
    }
}

// Called from Dart on channel.disconnect
globalThis.jsDisconnect = async function (appId) {
    if (appId in _apps) {
        console.log(`Terminating Python worker: ${appId}`);
        const app = _apps[appId];
        delete _apps[appId];
        app.worker.terminate();
        app.worker.onmessage = null;
        app.worker.onerror = null;
    }
}
