"""Plain typed objects for what the REST API answers (see docs/rest.md for every field)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

#: A signal param value: a string or a (64-bit) integer.
ParamValue = Union[str, int]
Params = Mapping[str, ParamValue]

#: Instance statuses after which a run changes no more.
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT"})


@dataclass(frozen=True)
class FieldError:
    """One field the server refused, e.g. ``signals[3].params.date: must be a string or an integer``."""

    field: str
    message: str


@dataclass(frozen=True)
class Signal:
    """One signal to publish. Without ``request_id`` the client generates one (see ``publish``)."""

    name: str
    params: Params = field(default_factory=dict)
    payload: Any = None
    request_id: Optional[str] = None


@dataclass(frozen=True)
class PublishResult:
    """
    What publishing one signal stored. ``duplicate`` is True when an instance with this request id
    existed before this call (another caller's, or an earlier run's with the same explicit id).
    """

    name: str
    seq_id: int
    instance_id: str
    duplicate: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "PublishResult":
        return cls(name=d["name"], seq_id=int(d["seq_id"]), instance_id=str(d["instance_id"]), duplicate=bool(d["duplicate"]))


@dataclass(frozen=True)
class SignalInstance:
    """A stored signal instance; ``create_time`` is epoch milliseconds."""

    name: str
    seq_id: int
    instance_id: str
    params: Dict[str, ParamValue]
    payload: Any
    create_time: int
    request_id: Optional[str] = None
    source: Any = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "SignalInstance":
        return cls(
            name=d["name"],
            seq_id=int(d["seq_id"]),
            instance_id=str(d["instance_id"]),
            params=dict(d.get("params") or {}),
            payload=d.get("payload"),
            create_time=int(d["create_time"]),
            request_id=d.get("request_id"),
            source=d.get("source"),
        )


@dataclass(frozen=True)
class StartResult:
    """The instance a start request made, or found (``duplicate``) for a request id used before."""

    workflow_id: str
    workflow_version_id: int
    workflow_instance_id: int
    workflow_run_id: int
    status: str
    duplicate: bool
    request_id: Optional[str] = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "StartResult":
        return cls(
            workflow_id=d["workflow_id"],
            workflow_version_id=int(d["workflow_version_id"]),
            workflow_instance_id=int(d["workflow_instance_id"]),
            workflow_run_id=int(d["workflow_run_id"]),
            status=d["status"],
            duplicate=bool(d["duplicate"]),
            request_id=d.get("request_id"),
        )


@dataclass(frozen=True)
class StepStatus:
    step_id: str
    status: str
    attempt_id: Optional[int] = None
    reason: Optional[str] = None
    start_time: Optional[str] = None
    end_time: Optional[str] = None


@dataclass(frozen=True)
class InstanceStatus:
    """One run of a workflow instance with its steps; times are ISO-8601 strings."""

    workflow_id: str
    workflow_instance_id: int
    workflow_run_id: int
    status: str
    steps: List[StepStatus]
    workflow_version_id: Optional[int] = None
    request_id: Optional[str] = None
    reason: Optional[str] = None
    create_time: Optional[str] = None
    start_time: Optional[str] = None
    end_time: Optional[str] = None
    params: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        """True once the run ended (SUCCEEDED, FAILED, STOPPED or TIMED_OUT)."""
        return self.status in TERMINAL_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "InstanceStatus":
        steps = [
            StepStatus(
                step_id=s.get("step_id", ""),
                status=s.get("status", ""),
                attempt_id=s.get("attempt_id"),
                reason=s.get("reason"),
                start_time=s.get("start_time"),
                end_time=s.get("end_time"),
            )
            for s in d.get("steps") or []
        ]
        return cls(
            workflow_id=d["workflow_id"],
            workflow_instance_id=int(d["workflow_instance_id"]),
            workflow_run_id=int(d["workflow_run_id"]),
            status=d["status"],
            steps=steps,
            workflow_version_id=d.get("workflow_version_id"),
            request_id=d.get("request_id"),
            reason=d.get("reason"),
            create_time=d.get("create_time"),
            start_time=d.get("start_time"),
            end_time=d.get("end_time"),
            params=dict(d.get("params") or {}),
            raw=dict(d),
        )


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    kind: Optional[str] = None


@dataclass(frozen=True)
class Lineage:
    """
    A lineage graph: ``nodes`` as the server describes them (each has ``id`` and ``type``:
    signal, workflow instance, step), ``edges`` from one node id to another.
    """

    nodes: List[Dict[str, Any]]
    edges: List[LineageEdge]
    truncated: bool

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Lineage":
        edges = [LineageEdge(source=e.get("from", ""), target=e.get("to", ""), kind=e.get("kind")) for e in d.get("edges") or []]
        return cls(nodes=[dict(n) for n in d.get("nodes") or []], edges=edges, truncated=bool(d.get("truncated", False)))
