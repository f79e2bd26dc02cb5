"""The central server: FastAPI over SQLModel (SQLite file by default, PostgreSQL by URL).

Public names for other server areas (admin, export routers):
    create_app(settings, *, engine=None)                sync.server.app     the app factory; mounts ROUTERS
    Settings                                            sync.server.config  typed settings (LEARNWALK_* env)
    CallerDep, Caller, SessionDep, WriteSessionDep      sync.server.deps    who is calling (device token ->
                                                                            device, user, role, district); sessions
    Scope(caller).select(Model) / .where(Model) / .get  sync.server.scope   the only way to query scoped rows
    ApiError(status, sentence)                          sync.server.errors  problem+json errors
    directory.create_district/create_school/create_user/issue_code/revoke_device   admin operations
    prepare(engine)                                     sync.server.serve   schema upgrade + built-in rubrics
A new router module exposes `router = APIRouter(prefix="/api/v1/...")`, takes `caller: CallerDep`, calls
`caller.require("admin")` where needed, and builds every query through `Scope(caller)`; add its router to
sync.server.app.ROUTERS. The server's CLI (serve, admin, export --db) is sync.server.cli, mounted by app/cli.
"""
