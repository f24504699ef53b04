"""The A2A server: card at /.well-known/agent-card.json (and the older
/.well-known/agent.json), JSON-RPC at POST / (`message/send`, and the 1.0
`SendMessage`), and GET /health.

Without OPENAI_API_KEY the agent still starts and serves its card and health;
a request then gets a JSON-RPC error saying that no LLM is configured.
"""

import asyncio
import logging

from a2a.helpers import new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.utils.errors import InternalError, InvalidParamsError, UnsupportedOperationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from .card import load_card
from .crew import run_crew
from .settings import Settings

log = logging.getLogger("crewai-agent")

NO_LLM = (
    "no LLM configured: set OPENAI_API_KEY (and OPENAI_BASE_URL / OPENAI_MODEL for an"
    " OpenAI-compatible server) in the agent's environment; with nasiko-local: in your env file,"
    " then `invoke restart --service nasiko-worker` and redeploy"
)


def refusal(error: Exception) -> Exception:
    """Mark an error the agent answers on purpose (not a crash): logged in one line, see RefusalsInOneLine."""
    error.nasiko_refusal = True
    return error


class RefusalsInOneLine(logging.Filter):
    """The SDK logs every executor error with its traceback; a request this agent
    refuses on purpose (no LLM configured, no question) gets one line with the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None and not getattr(error, "nasiko_refusal", False):
            error = error.__cause__ or error.__context__
        if error is not None:
            record.msg, record.args = f"{record.getMessage()}: {error}", ()
            record.exc_info, record.exc_text = None, None
        return True


class CrewExecutor(AgentExecutor):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        if not self.settings.llm_configured:
            raise refusal(InternalError(message=NO_LLM))
        question = context.get_user_input().strip()
        if not question:
            raise refusal(InvalidParamsError(message="send the question as a text part of the message"))
        try:
            # CrewAI is synchronous: keep the event loop free for other requests.
            answer = await asyncio.to_thread(run_crew, question, self.settings)
        except Exception as exc:
            log.exception("the crew failed")
            raise InternalError(message=f"the crew failed: {exc}") from exc
        await event_queue.enqueue_event(
            new_text_message(answer, context_id=context.context_id, task_id=context.task_id)
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise UnsupportedOperationError(message="a running crew cannot be cancelled")


async def health(request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse({"status": "ok", "llm_configured": settings.llm_configured})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    card = load_card(settings)
    handler = DefaultRequestHandler(
        agent_executor=CrewExecutor(settings), task_store=InMemoryTaskStore(), agent_card=card
    )
    routes = [
        Route("/health", health, methods=["GET"]),
        *create_agent_card_routes(card),
        *create_agent_card_routes(card, card_url="/.well-known/agent.json"),
        *create_jsonrpc_routes(handler, rpc_url="/", enable_v0_3_compat=True),
    ]
    app = Starlette(routes=routes)
    app.state.settings = settings
    return app
