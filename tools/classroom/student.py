"""One simulated student, driving the Hub REST API and the Jupyter server API as a browser would.

Log in (the admin service makes the student a token, as the hub's login page would hand
out a cookie), start a server and wait until the hub reports it ready, open the chapter's
notebook through the contents API, start a kernel session, connect the kernel's websocket and
run every code cell with `execute_request` (waiting for each `execute_reply`, as Run All
does), then move the explorer's slider: a `comm_msg` with the widget's new state, as
ipywidgets' front end sends on a drag, timed until the kernel goes idle after it (the new
frame has been drawn and sent). Finally the kernel reports its peak memory (ru_maxrss) and
the student stops their server.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

# Move the init explorer's std like a drag does: 12 distinct values, cycled.
STD_SWEEP = [0.004 * (25 ** (i / 11)) for i in range(12)]

PROBE = """\
import json as _json
print(_json.dumps({"slider": explorer.controls["std"].model_id,
                   "canvas": explorer.canvas.model_id}))
"""
PEAK = "import resource as _r; print(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss)"


@dataclass
class StudentResult:
    name: str
    arrived_s: float = 0.0  # since the run started
    server_ready_s: float | None = None  # arrival -> hub says the server is ready
    first_cell_s: float | None = None  # arrival -> first execute_reply
    cells_s: float | None = None  # all cells, first request -> last reply
    cells_run: int = 0
    move_ms: list[float] = field(default_factory=list)
    kernel_peak_mb: float | None = None
    failures: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float | None:
        return percentile(self.move_ms, q)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["move_p50_ms"] = self.percentile(50)
        data["move_p95_ms"] = self.percentile(95)
        return data


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


class StepFailed(Exception):
    pass


class KernelChannel:
    """A kernel websocket (the legacy JSON protocol, as JupyterLab without a subprotocol)."""

    def __init__(self, connection):
        self.connection = connection
        self.session = uuid.uuid4().hex
        self.waiters: dict[tuple[str, str], asyncio.Future] = {}
        self.errors: dict[str, str] = {}
        self.outputs: dict[str, list[str]] = {}
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            frame = await self.connection.read_message()
            if frame is None:
                for waiter in self.waiters.values():
                    if not waiter.done():
                        waiter.set_exception(StepFailed("kernel websocket closed"))
                return
            if isinstance(frame, bytes):
                continue  # widget/canvas buffers (frames of the figure): not waited on
            message = json.loads(frame)
            parent = message.get("parent_header", {}).get("msg_id")
            kind = message.get("msg_type") or message["header"]["msg_type"]
            if kind == "error":
                self.errors[parent] = f"{message['content']['ename']}: " + str(
                    message["content"]["evalue"]
                )
            elif kind == "stream":
                self.outputs.setdefault(parent, []).append(message["content"]["text"])
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                self._resolve((parent, "idle"), message)
            elif kind in ("execute_reply", "kernel_info_reply"):
                self._resolve((parent, "reply"), message)

    def _resolve(self, key, message):
        waiter = self.waiters.get(key)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)

    async def send(
        self, channel: str, msg_type: str, content: dict, wait: str, timeout: float, idle=False
    ):
        """Send a message; wait for its reply or the kernel's idle after it (or, with idle,
        for both: iopub output may arrive after the shell reply, never after the idle)."""
        msg_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiters[(msg_id, wait)] = future
        if idle:
            idle_future = loop.create_future()
            self.waiters[(msg_id, "idle")] = idle_future
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "session": self.session,
            "username": "student",
            "version": "5.3",
            "date": datetime.now(timezone.utc).isoformat(),
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
        await self.connection.write_message(json.dumps(message))
        try:
            reply = await asyncio.wait_for(future, timeout)
            if idle:
                await asyncio.wait_for(idle_future, timeout)
        except asyncio.TimeoutError:
            raise StepFailed(f"{msg_type}: no {wait} in {timeout:.0f} s") from None
        finally:
            self.waiters.pop((msg_id, wait), None)
            self.waiters.pop((msg_id, "idle"), None)
        return msg_id, reply

    async def execute(self, code: str, timeout: float) -> str:
        content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
        msg_id, reply = await self.send(
            "shell", "execute_request", content, "reply", timeout, idle=True
        )
        if reply["content"]["status"] != "ok":
            raise StepFailed(self.errors.get(msg_id, reply["content"].get("ename", "error")))
        return "".join(self.outputs.pop(msg_id, []))

    async def comm(self, comm_id: str, data: dict, timeout: float) -> None:
        content = {"comm_id": comm_id, "data": data}
        await self.send("shell", "comm_msg", content, "idle", timeout)

    def close(self):
        self.reader.cancel()
        self.connection.close()


class Student:
    def __init__(self, name, hub_url, admin_token, notebook_path, cells, options):
        self.name = name
        self.hub_url = hub_url
        self.admin_token = admin_token
        self.notebook_path = notebook_path  # inside the student's home
        self.cells = cells  # code cells' sources
        self.options = options  # moves, think, cell_timeout, start_timeout
        self.token = None
        self.result = StudentResult(name)
        self.http = AsyncHTTPClient()

    async def api(self, method, path, token=None, body=None, timeout=60, ok=(200, 201, 202, 204)):
        request = HTTPRequest(
            f"{self.hub_url}{path}",
            method=method,
            headers={"Authorization": f"token {token or self.token}"},
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
            request_timeout=timeout,
        )
        response = await self.http.fetch(request, raise_error=False)
        if response.code not in ok:
            detail = (response.body or b"")[:200].decode(errors="replace")
            raise StepFailed(f"{method} {path}: HTTP {response.code} {detail}")
        return json.loads(response.body) if response.body else None

    async def run(self, started: float) -> StudentResult:
        r = self.result
        arrival = time.monotonic()
        r.arrived_s = arrival - started
        channel = None
        step = "login"
        try:
            token = await self.api(
                "POST",
                f"/hub/api/users/{self.name}/tokens",
                token=self.admin_token,
                body={"note": "classroom-load login", "expires_in": 3600},
            )
            self.token = token["token"]
            step = "start server"
            await self.api("POST", f"/hub/api/users/{self.name}/server")
            deadline = arrival + self.options["start_timeout"]
            while True:
                user = await self.api("GET", f"/hub/api/users/{self.name}")
                server = user.get("servers", {}).get("")
                if server and server.get("ready"):
                    break
                if time.monotonic() > deadline:
                    raise StepFailed("server not ready in time")
                await asyncio.sleep(0.25)
            r.server_ready_s = time.monotonic() - arrival
            base = f"/user/{self.name}/api"
            step = "open notebook"
            path = quote(self.notebook_path)
            await self.api("GET", f"{base}/contents/{path}?content=1")
            session = await self.api(
                "POST",
                f"{base}/sessions",
                body={
                    "path": self.notebook_path,
                    "name": self.notebook_path.rsplit("/", 1)[-1],
                    "type": "notebook",
                    "kernel": {"name": "python3"},
                },
            )
            kernel_id = session["kernel"]["id"]
            step = "kernel websocket"
            ws_url = self.hub_url.replace("http", "ws", 1) + f"{base}/kernels/{kernel_id}/channels"
            connection = await websocket_connect(
                HTTPRequest(
                    ws_url, headers={"Authorization": f"token {self.token}"}, request_timeout=60
                ),
                max_message_size=64 * 1024 * 1024,
            )
            channel = KernelChannel(connection)
            await channel.send("shell", "kernel_info_request", {}, "reply", 120)
            cell_timeout = self.options["cell_timeout"]
            first_request = None
            for number, source in enumerate(self.cells, 1):
                step = f"cell {number}"
                first_request = first_request or time.monotonic()
                await channel.execute(source, cell_timeout)
                r.cells_run += 1
                if r.first_cell_s is None:
                    r.first_cell_s = time.monotonic() - arrival
            r.cells_s = time.monotonic() - first_request if first_request else None
            step = "explorer"
            ids = json.loads((await channel.execute(PROBE, cell_timeout)).strip())
            initialized = {"method": "custom", "content": {"type": "initialized"}}
            await channel.comm(ids["canvas"], initialized, cell_timeout)
            value = None
            for move in range(self.options["moves"]):
                await asyncio.sleep(self.options["think"])
                value = STD_SWEEP[move % len(STD_SWEEP)]
                state = {"method": "update", "state": {"value": value}, "buffer_paths": []}
                t0 = time.monotonic()
                await channel.comm(ids["slider"], state, self.options["move_timeout"])
                r.move_ms.append((time.monotonic() - t0) * 1000)
            if value is not None:
                shown = float(await channel.execute('print(explorer.values["std"])', 60))
                if abs(shown - value) > 1e-6 * value:
                    raise StepFailed(f"the explorer shows std={shown}, the slider sent {value}")
            step = "kernel memory"
            r.kernel_peak_mb = int(await channel.execute(PEAK, 60)) / 1024
            step = "stop server"
            channel.close()
            channel = None
            await self.api("DELETE", f"{base}/sessions/{session['id']}")
            await self.api("DELETE", f"/hub/api/users/{self.name}/server")
        except asyncio.CancelledError:
            r.failures.append(f"stopped at: {step}")
            raise
        except Exception as error:  # noqa: BLE001 -- every failure is recorded per student
            r.failures.append(f"{step}: {type(error).__name__}: {error}"[:300])
        finally:
            if channel is not None:
                channel.close()
        return r
