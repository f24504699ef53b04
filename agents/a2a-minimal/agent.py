"""A minimal A2A agent with no LLM: JSON-RPC `message/send` at POST /, which
echoes the message's text, its card at /.well-known/agent-card.json (and the
older /.well-known/agent.json), and GET /health.

It speaks just enough of A2A (0.3 JSON-RPC, plus the 1.0 method name
`SendMessage`) to be deployed, discovered and called, and it depends only on
Starlette and uvicorn, so its image builds in seconds.
"""

import json
import os
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CARD = json.loads((Path(__file__).parent / "AgentCard.json").read_text())
if os.environ.get("AGENT_PUBLIC_URL"):
    CARD["url"] = os.environ["AGENT_PUBLIC_URL"]

SEND_METHODS = {"message/send", "SendMessage"}
# JSON-RPC 2.0 error codes.
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


def _error(request_id, code: int, message: str) -> JSONResponse:
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def _text_of(message: dict) -> str:
    return "".join(part.get("text", "") for part in message.get("parts", []) if isinstance(part, dict))


def reply_to(message: dict) -> dict:
    return {
        "kind": "message",
        "role": "agent",
        "messageId": str(uuid.uuid4()),
        "contextId": message.get("contextId") or str(uuid.uuid4()),
        "parts": [{"kind": "text", "text": f"echo: {_text_of(message)}"}],
    }


async def rpc(request: Request) -> JSONResponse:
    try:
        call = await request.json()
    except ValueError:
        return _error(None, PARSE_ERROR, "the body is not valid JSON")
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0" or "method" not in call:
        return _error(None, INVALID_REQUEST, "expected a JSON-RPC 2.0 request object")
    request_id = call.get("id")
    if call["method"] not in SEND_METHODS:
        return _error(
            request_id, METHOD_NOT_FOUND, f"method {call['method']!r} is not supported; use message/send"
        )
    message = (call.get("params") or {}).get("message")
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        return _error(request_id, INVALID_PARAMS, "params.message with a list of parts is required")
    return JSONResponse({"jsonrpc": "2.0", "id": request_id, "result": reply_to(message)})


async def card(request: Request) -> JSONResponse:
    return JSONResponse(CARD)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/", rpc, methods=["POST"]),
        Route("/.well-known/agent-card.json", card, methods=["GET"]),
        Route("/.well-known/agent.json", card, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
)
