"""Slowing down password guessing without letting a stranger lock a writer out.

Failed sign-ins are counted per (user name, client address), per client address and per
user name. Each count has a number of free failures; past it, every further attempt waits
a delay that doubles with each failure (1 s, 2 s, 4 s … at most ``cap``), counted from the
last failure. There is no hard lock: five wrong passwords for ``anna`` from one address
slow down that address for ``anna``, not ``anna`` at her own desk. The counts over all
names of one address and over all addresses of one name have higher thresholds and leave
out the addresses a name has signed in from before: a guessing network cannot keep a writer
out of her usual place, nor one guesser behind a shared proxy address everyone else.

An attempt is counted as a failure *before* its password is checked (:meth:`begin`) and
taken back when it succeeds (:meth:`succeeded`): concurrent guesses all see each other, so
twelve at once are not all checked. In memory, per server process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Burst:
    """A count that just reached its threshold (or doubled past it): one line for the audit log."""
    scope: str      # "name+address", "address" or "name"
    name: str
    address: str | None
    failures: int


class LoginThrottle:
    def __init__(self, free: int = 3, address_free: int = 20, name_free: int = 100, base: float = 1.0,
                 cap: float = 900.0, window: float = 3600.0, clock=None, max_keys: int = 10_000,
                 report: int = 5):
        self.free = {"name+address": free, "address": address_free, "name": name_free}
        # a burst is reported when a count reaches this, then at each doubling
        self.report = {"name+address": max(report, free), "address": address_free, "name": name_free}
        self.base, self.cap, self.window, self.max_keys = base, cap, window, max_keys
        self.clock = clock or time.monotonic
        self._failures: OrderedDict[tuple, list[float]] = OrderedDict()  # key -> times, oldest first
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()  # (name, address) signed in before
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str | None) -> list[tuple]:
        name = name.strip().casefold()
        keys: list[tuple] = [("name+address", name, address)]
        if address and (name, address) not in self._known:  # a known place: only its own count
            keys += [("address", "", address), ("name", name, None)]
        return keys

    def _recent(self, key: tuple, now: float) -> list[float]:
        return [t for t in self._failures.get(key, ()) if now - t < self.window]

    def _wait(self, key: tuple, now: float) -> float:
        recent = self._recent(key, now)
        over = len(recent) - self.free[key[0]]
        if over < 0:
            return 0.0
        return max(0.0, recent[-1] + min(self.cap, self.base * 2 ** min(over, 32)) - now)

    def begin(self, name: str, address: str | None) -> float:
        """0 when this attempt may be checked now (it is counted as failed until
        :meth:`succeeded`); otherwise the seconds to wait, and nothing is counted."""
        now = self.clock()
        with self._lock:
            keys = self._keys(name, address)
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                return wait
            for key in keys:
                self._failures[key] = [*self._recent(key, now), now]
                self._failures.move_to_end(key)
            self._forget(now)
            return 0.0

    def succeeded(self, name: str, address: str | None) -> None:
        """The attempt was right: take its advance count back, clear the pair's failures and
        remember the address as one ``name`` signs in from."""
        with self._lock:
            keys = self._keys(name, address)
            self._failures.pop(keys[0], None)
            for key in keys[1:]:
                times = self._failures.get(key)
                if times:
                    times.pop()  # the one the attempt added (any one: only their number counts)
            if address:
                self._known[(name.strip().casefold(), address)] = None
                self._known.move_to_end((name.strip().casefold(), address))
                while len(self._known) > self.max_keys:
                    self._known.popitem(last=False)

    def failed(self, name: str, address: str | None) -> list[Burst]:
        """The attempt was wrong (it is already counted): the counts that reached their
        threshold, or doubled past it, with it."""
        now = self.clock()
        bursts = []
        with self._lock:
            for key in self._keys(name, address):
                count, first = len(self._recent(key, now)), self.report[key[0]]
                if count >= first and count % first == 0 and (count // first) & (count // first - 1) == 0:
                    bursts.append(Burst(key[0], name.strip(), address, count))
        return bursts

    def _forget(self, now: float) -> None:
        """Keep memory bounded: drop counts past the window, then the longest untouched."""
        if len(self._failures) <= self.max_keys:
            return
        for key in [k for k, times in self._failures.items() if not times or now - times[-1] >= self.window]:
            del self._failures[key]
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)
