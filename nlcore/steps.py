"""The training step of a batch of slots: gather its images, draw its labels, step the engine (on CUDA,
as one captured graph). An edit to the data path changes results; to the capture, speed only.
"""

from __future__ import annotations

import torch

from . import graphs, noise
from .engines import Engine, Stacked, compile_strict
from .tensors import RunTensors, batch


class Steps:
    """Training steps on batches of slots: gather the images, draw the labels, step the engine.

    ``steps(slots)`` takes int64 slot indices (B,) on the device and returns the engine's losses (G,);
    on CUDA that tensor is the graph's static output, overwritten by the next step: use it (or copy it)
    before then. Labels are drawn per batch (a pure function of the slot): no O(n * alpha) temporaries.

    On CUDA (one process, either engine) the whole step of a full batch (gather, labels, forward, backward,
    AdaDelta of every model) is captured once as a CUDA graph, after :attr:`WARMUP` eager steps on a side stream, and
    replayed for every later full batch (an epoch's last, smaller batch runs eagerly): one launch instead
    of hundreds of kernels. A replay launches the kernels the eager step would, with dropout drawing
    fresh numbers each replay. ``NLCORE_CUDA_GRAPHS=0`` turns it off; a capture that fails falls back to
    eager steps (``graph_error`` says why).
    """

    WARMUP = 3

    def __init__(self, d: RunTensors, cfg: dict, eng: Engine, device: str):
        self.d, self.cfg, self.eng = d, cfg, eng
        self.kind = type(eng).__name__
        self.graphable = eng.graphable and graphs.cuda_graphs_enabled(device, self.kind)
        self.graph, self.calls, self.side = None, 0, None
        self.graph_error = graphs.GRAPH_FAILURES.get(self.kind)  # a capture of this kind failed earlier in the process
        # with a compiled engine, the data path of a full batch is compiled too (fused gather and labels)
        self._data = compile_strict(self.data) if isinstance(eng, Stacked) and eng.compiled else None

    @property
    def cuda_graph(self) -> bool:
        return self.graph is not None

    def data(self, slots: torch.Tensor):
        """The batch of ``slots``: normalised images and their drawn labels."""
        d, cfg = self.d, self.cfg
        return batch(d, cfg, slots, noise.slot_labels(slots, d.y, d.thr, cfg["seed"]))

    def eager(self, slots: torch.Tensor) -> torch.Tensor:
        xy = None
        if self._data is not None and len(slots) == self.cfg["batch_size"]:
            try:
                xy = self._data(slots)
            except Exception:  # noqa: BLE001 -- the data path failed to compile: eager from now on
                self._data = None
        return self.eng.step(*(xy if xy is not None else self.data(slots)))

    def __call__(self, slots: torch.Tensor) -> torch.Tensor:
        if not self.graphable or len(slots) != self.cfg["batch_size"]:
            return self.eager(slots)
        if self.graph is not None:
            self.static.copy_(slots)
            self.graph.replay()
            return self.out
        self.calls += 1
        if self.calls <= self.WARMUP:  # real training steps, on a side stream as capture wants
            self.side = self.side or torch.cuda.Stream()
            self.side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(self.side):
                out = self.eager(slots)
            torch.cuda.current_stream().wait_stream(self.side)
            return out
        self.static = slots.clone()
        self.graph, self.out = graphs.capture(lambda: self.eager(self.static), self.kind)
        if self.graph is None:
            self.graphable, self.graph_error = False, graphs.GRAPH_FAILURES[self.kind]
            return self.eager(slots)
        self.graph.replay()  # capturing recorded the step without running it
        return self.out
