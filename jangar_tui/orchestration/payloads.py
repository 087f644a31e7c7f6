"""What travels through Temporal: the workflow input, activity arguments and results.

Plain pydantic models, carried by `pydantic_data_converter` on both the client and the worker.
The activity names live here too, so the workflow module can call activities by name without
importing the activity implementations (which touch the store, git and subprocesses).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jangar_tui.models import WorkOrderStatus

WORKFLOW_NAME = "WorkOrderWorkflow"

# Activity names (the workflow schedules them by name; `activities.py` registers them).
MARK_ACCEPTED = "jangar.mark_accepted"
PREPARE_WORKSPACE = "jangar.prepare_workspace"
RUN_AGENT = "jangar.run_agent"
RECORD_OUTCOME = "jangar.record_outcome"
DELIVER = "jangar.deliver"
# ApplicationError.type of a delivery step that failed for good (a refused push).
DELIVERY_FAILED = "DeliveryFailed"

# ApplicationError.type of an agent its worker stopped while shutting down (retried elsewhere).
HANDED_BACK = "HandedBack"


def agent_task_queue(task_queue: str) -> str:
    """The queue of the agent runs of workflows on `task_queue`: a queue of their own, so that a
    worker's cap on concurrent agents (JANGAR_MAX_AGENTS) counts agents and nothing else."""
    return f"{task_queue}-agents"


DEFAULT_HEARTBEAT_TIMEOUT_S = 30.0
# How much of the agent's output the worker keeps (and puts in the completion message).
OUTPUT_TAIL_CHARS = 16 * 1024


class WorkOrderInput(BaseModel):
    """The workflow input: the work order as it was launched, plus the timeouts to apply."""

    model_config = ConfigDict(frozen=True)

    workOrderId: str
    sessionId: str
    prompt: str | None = None
    title: str | None = None
    targetRepo: str | None = None
    targetBranch: str | None = None
    githubIssueUrl: str | None = None
    requestedBy: str | None = None
    # Timeouts travel with the input so a workflow keeps the ones it was launched with.
    agentTimeoutS: float = Field(default=3600.0, gt=0)
    # None: no heartbeat timeout (a dead worker is then only noticed at the agent timeout).
    heartbeatTimeoutS: float | None = Field(default=DEFAULT_HEARTBEAT_TIMEOUT_S, gt=0)


class AgentRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    workOrderId: str
    prompt: str
    workspace: str | None = None


class AgentResult(BaseModel):
    """How the agent process ended. A non-zero exit is a result, not an activity failure."""

    model_config = ConfigDict(frozen=True)

    exitCode: int
    output: str = ""  # tail of stdout: the agent's final answer
    errorOutput: str = ""  # tail of stderr
    prUrl: str | None = None
    canceled: bool = False  # stopped because the workflow was canceled
    worker: str | None = None  # JANGAR_WORKER_NAME of the worker that ran it
    # The worktree's HEAD when the agent started: where this run's own change begins (a follow-up
    # works on the same branch, after the runs before it).
    startCommit: str | None = None


class DeliverRequest(BaseModel):
    """After a successful run in a workspace: commit, push and open the PR (`delivery`)."""

    model_config = ConfigDict(frozen=True)

    workOrderId: str
    workspace: str
    targetRepo: str
    title: str
    prompt: str | None = None
    githubIssueUrl: str | None = None
    agentPrUrl: str | None = None
    startCommit: str | None = None  # AgentResult.startCommit


class DeliverResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    prUrl: str | None = None
    note: str


class Outcome(BaseModel):
    """What the workflow records when it ends: the terminal status and the completion message."""

    model_config = ConfigDict(frozen=True)

    workOrderId: str
    sessionId: str
    status: WorkOrderStatus
    message: str
    prUrl: str | None = None
    exitCode: int | None = None
    # The agent's process mark from the last heartbeat of an attempt whose worker stopped
    # responding: recording the outcome stops that agent if it still runs on the recording host.
    abandonedAgent: dict[str, Any] | None = None
    worker: str | None = None  # the worker that ran the agent (in the completion message's metadata)


# -- chat turns -------------------------------------------------------------------------------------

CHAT_WORKFLOW_NAME = "ChatWorkflow"
RUN_CHAT_TURN = "jangar.run_chat_turn"
SETTLE_CHAT_TURN = "jangar.settle_chat_turn"
CHAT_ENQUEUE_SIGNAL = "enqueue"
CHAT_INTERRUPT_SIGNAL = "interrupt"


class ChatInput(BaseModel):
    """A session's chat workflow: the session, user messages still to answer, oldest first."""

    model_config = ConfigDict(frozen=True)

    sessionId: str
    pending: list[str] = Field(default_factory=list)
    turnTimeoutS: float = Field(default=1800.0, gt=0)


class ChatTurnRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    sessionId: str
    userMessageId: str


class ChatTurnAbandoned(BaseModel):
    """A turn no attempt could finish (its workers died, or it ran past its timeout on every try)."""

    model_config = ConfigDict(frozen=True)

    sessionId: str
    userMessageId: str
    reason: str
