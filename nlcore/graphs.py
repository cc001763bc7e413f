"""CUDA graphs: a step recorded once and replayed. An edit here changes speed only (a replay launches the
kernels the eager step would).

A capture that fails (an operation a graph cannot hold) is remembered per engine kind, and that kind's
steps run eagerly for the rest of the process.
"""

from __future__ import annotations

import torch

from . import switches

# this process's CUDA-graph capture failures, engine kind -> error: after one, that kind's steps stay eager
GRAPH_FAILURES: dict = {}


def cuda_graphs_enabled(device: str, kind: str) -> bool:
    """CUDA graphs for the steps of an engine of class ``kind``: on CUDA unless ``NLCORE_CUDA_GRAPHS=0``
    or a capture of that kind failed earlier in this process."""
    return device.startswith("cuda") and switches.cuda_graphs_on() and kind not in GRAPH_FAILURES


def capture(fn, kind: str):
    """``(graph, out)``: fn() recorded as a CUDA graph (recorded, not run: ``graph.replay()`` runs it;
    ``out`` is the graph's static output, overwritten by every replay). On failure ``(None, None)``:
    the caller's stream is restored (torch's context manager does not on an error), the error is kept in
    :data:`GRAPH_FAILURES` under ``kind`` (the engine's class name) and no later capture of that kind is
    tried in this process."""
    stream = torch.cuda.current_stream()
    try:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = fn()
        return graph, out
    except Exception as e:  # noqa: BLE001 -- whatever stops a capture, training goes on eagerly
        torch.cuda.set_stream(stream)
        torch.cuda.synchronize()
        GRAPH_FAILURES[kind] = repr(e)[:500]
        unmarked = _unmark_generator()
        if unmarked:
            GRAPH_FAILURES[kind] += f"; then, unmarking the generator: {unmarked}"
        return None, None


def _unmark_generator() -> str | None:
    """After a failed capture, let eager random draws (dropout) run again. torch marks CUDA's default
    generator as capturing when a capture begins and unmarks it only when the capture ends well, so after a
    failed one every eager draw raises "Offset increment outside graph capture encountered unexpectedly".
    A capture that succeeds (one draw, never replayed) unmarks it; the generator's eager state is untouched
    (a capture's draws advance only the graph's own offset). Returns the error if that capture fails too."""
    try:
        with torch.cuda.graph(torch.cuda.CUDAGraph()):
            torch.rand(1, device="cuda")
    except Exception as e:  # noqa: BLE001 -- reported with the first failure
        torch.cuda.synchronize()
        return repr(e)[:300]
    return None


def replayable(fn, kind: str, warmup: int = 3):
    """fn (no arguments) captured as a CUDA graph after ``warmup`` side-stream calls: returns the graph's
    replay, or fn itself if the capture fails."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph, _ = capture(fn, kind)
    return fn if graph is None else graph.replay


def fixed_step(eng, x, y, device: str):
    """A no-argument step of ``eng`` on the fixed batch (x, y), as :class:`Steps` would run it (on CUDA a
    graph replay, where the engine allows one): for timing an engine without its data path."""
    step = lambda: eng.step(x, y)  # noqa: E731
    kind = type(eng).__name__
    return replayable(step, kind) if eng.graphable and cuda_graphs_enabled(device, kind) else step
