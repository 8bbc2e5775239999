"""Graph requests per second, read from the simulator's own counter while a benchmark runs.

The simulator counts every Graph request (`stats()["counters"]["graph_requests"]`); its request
log keeps only the last 2,000, so the counter is polled instead and the rate taken over
one-second windows.
"""
import threading
import time

from microsoft_simulator.control import SimulatorControl


def graph_requests(control):
    return control.stats()["counters"].get("graph_requests", 0)


class GraphRate:
    """with GraphRate(sim) as rate: ...; then rate.peak(), rate.between(t0, t1)."""

    def __init__(self, sim, interval=0.25):
        # Its own client: a requests.Session is not shared between threads.
        self.control = SimulatorControl(sim.base_url, sim.ca_path)
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="graph-rate", daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            self.samples.append((time.time(), graph_requests(self.control)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)
        self.samples.append((time.time(), graph_requests(self.control)))
        return False

    def peak(self, window=1.0):
        """The most requests counted in any window of about `window` seconds, per second."""
        best, start = 0.0, 0
        for t, count in self.samples:
            while self.samples[start + 1][0] <= t - window:
                start += 1
            began, before = self.samples[start]
            if t - began >= window * 0.75:  # a poll can be late; never divide by a sliver
                best = max(best, (count - before) / (t - began))
        return best

    def count_at(self, moment):
        """The counter's value at the last sample taken at or before `moment` (epoch seconds)."""
        found = self.samples[0][1]
        for t, count in self.samples:
            if t > moment:
                break
            found = count
        return found
