"""Health reports: each service names the dependencies it cannot work without
(required) and the peers it can live without (optional).

A failing required check makes the service unhealthy (HTTP 503); a failing
optional check only shows as "degraded" in the body, so the stack still runs
where, say, Kong cannot.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe
    required: bool = True
    timeout: float = 2.0


async def _run(check: Check) -> dict:
    try:
        detail = await asyncio.wait_for(check.probe(), timeout=check.timeout)
    except TimeoutError:
        return {"ok": False, "required": check.required, "error": f"no answer within {check.timeout:g}s"}
    except Exception as exc:  # a probe may fail in any way; report, never raise
        reason = str(exc) or type(exc).__name__
        return {"ok": False, "required": check.required, "error": reason}
    result = {"ok": True, "required": check.required}
    if isinstance(detail, dict):
        result.update(detail)
    return result


async def health_report(service: str, checks: list[Check]) -> JSONResponse:
    results = await asyncio.gather(*(_run(c) for c in checks))
    by_name = {c.name: r for c, r in zip(checks, results, strict=True)}
    if any(not r["ok"] and r["required"] for r in results):
        status, code = "unhealthy", 503
    elif any(not r["ok"] for r in results):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JSONResponse({"service": service, "status": status, "checks": by_name}, status_code=code)
