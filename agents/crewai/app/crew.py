"""The crew: a researcher gathers the key facts, a writer turns them into the answer.

answer = run_crew("What is A2A?", settings)   # blocking; call it off the event loop
"""

from crewai import LLM, Agent, Crew, Process, Task

from .settings import Settings


def _llm(settings: Settings) -> LLM:
    options = {
        "model": f"openai/{settings.openai_model}",
        "api_key": settings.openai_api_key,
        "temperature": 0.2,
    }
    if settings.openai_base_url:
        options["base_url"] = settings.openai_base_url
    return LLM(**options)


def build_crew(settings: Settings) -> Crew:
    llm = _llm(settings)
    researcher = Agent(
        role="Researcher",
        goal="Find the facts that matter for the question: {question}",
        backstory="You are careful and brief, and you say when you are unsure.",
        llm=llm,
        allow_delegation=False,
        verbose=False,
    )
    writer = Agent(
        role="Writer",
        goal="Answer the question clearly in one short paragraph: {question}",
        backstory="You turn research notes into plain, direct answers.",
        llm=llm,
        allow_delegation=False,
        verbose=False,
    )
    research = Task(
        description="List the key facts needed to answer: {question}",
        expected_output="A few bullet points of facts.",
        agent=researcher,
    )
    answer = Task(
        description="Using the research notes, answer: {question}",
        expected_output="One short paragraph that answers the question.",
        agent=writer,
        context=[research],
    )
    return Crew(
        agents=[researcher, writer], tasks=[research, answer], process=Process.sequential, verbose=False
    )


def run_crew(question: str, settings: Settings) -> str:
    result = build_crew(settings).kickoff(inputs={"question": question})
    return str(result.raw).strip()
