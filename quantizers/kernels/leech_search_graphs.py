"""CUDA-graph replay of the Λ24 search's stage chain, so that a repeated call costs one launch on the host.

The stages (`leech_search.search_stages`) launch a kernel or more per stage whose host-side cost (Triton's
launcher, argument checks) exceeds their GPU time at training sizes. Nothing in the chain waits for
the host, so it can be captured once and replayed. A graph reads its input at the address it was
captured with, so graphs are keyed by (device, input address, shape, dtype, config): a key seen for
the second time is captured and replayed from then on (a training loop's allocator hands the same
address to the same tensor step after step); one-off addresses run eagerly. At most
`config.graphs` graphs are kept (least recently used first out), each holding its scratch (about
24 bytes per token) and output in its own memory pool. The returned indices are a copy of the
graph's output buffer. While the caller itself captures a graph, the chain runs eagerly (it is
capturable as it is); if a capture fails, a RuntimeWarning says so and every later call runs eagerly.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import Tensor

_SEEN_LIMIT = 64  # addresses remembered as seen once


class SearchGraphs:
    """Graphs of one search function, keyed by input address, shape, dtype and configuration."""

    def __init__(self, search: Callable[[Tensor, object], Tensor]) -> None:
        self.search = search
        self.graphs: OrderedDict[tuple, tuple[torch.cuda.CUDAGraph, Tensor]] = OrderedDict()
        self.seen: OrderedDict[tuple, None] = OrderedDict()
        self.refused = False  # set when a capture failed

    def __call__(self, flat_N24: Tensor, config) -> Tensor:
        if config.graphs == 0 or self.refused or torch.cuda.is_current_stream_capturing():
            return self.search(flat_N24, config)
        key = (flat_N24.device, flat_N24.data_ptr(), flat_N24.shape[0], flat_N24.dtype, config)
        if key in self.graphs:
            self.graphs.move_to_end(key)
            graph, indices_N = self.graphs[key]
            with torch.cuda.device(flat_N24.device):
                graph.replay()
            return indices_N.clone()
        if key not in self.seen:  # first sighting: eager (this also compiles every kernel)
            self.seen[key] = None
            if len(self.seen) > _SEEN_LIMIT:
                self.seen.popitem(last=False)
            return self.search(flat_N24, config)
        del self.seen[key]
        try:
            graph, indices_N = self._capture(flat_N24, config)
        except RuntimeError as error:  # a driver that refuses the capture: run eagerly from now on
            warnings.warn(f"CUDA graph capture of the Λ24 search failed ({error}); searching without graphs",
                          RuntimeWarning, stacklevel=3)
            self.refused = True
            return self.search(flat_N24, config)
        self.graphs[key] = (graph, indices_N)
        if len(self.graphs) > config.graphs:
            self.graphs.popitem(last=False)
        with torch.cuda.device(flat_N24.device):
            graph.replay()
        return indices_N.clone()

    def _capture(self, flat_N24: Tensor, config) -> tuple[torch.cuda.CUDAGraph, Tensor]:
        """Record the chain on a side stream that waits for the caller's stream."""
        device = flat_N24.device
        graph = torch.cuda.CUDAGraph()
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.device(device), torch.cuda.stream(side):
            graph.capture_begin(capture_error_mode="thread_local")
            try:
                indices_N = self.search(flat_N24, config)
            finally:
                graph.capture_end()
        torch.cuda.current_stream(device).wait_stream(side)
        return graph, indices_N

    def clear(self) -> None:
        """Drop every graph and its memory, and try capturing again."""
        self.graphs.clear()
        self.seen.clear()
        self.refused = False
