"""Locust users for ``bench/load.py`` (one class per phase; the driver names the class to run).

The plan (paths, learners' cookies) is a JSON file named by ``LOAD_PLAN``, written by the driver.
Users wait for nothing between requests: each phase measures what the server can serve.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading

from locust import FastHttpUser, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())
_cold = iter(PLAN["search_cold"])
_cold_lock = threading.Lock()
_learners = itertools.cycle(PLAN["learner_cookies"])


class Hello(FastHttpUser):
    """The bare endpoint: what the server and the client cost with no application work."""

    @task
    def hello(self) -> None:
        self.client.get("/_bench/hello", name="hello")


class Search(FastHttpUser):
    """Search as learners use it: popular queries come back often, a third with filters, some
    second pages (the driver draws the mix; see ``search_mix`` in bench/load.py)."""

    @task
    def search(self) -> None:
        self.client.get(random.choice(PLAN["search_mix"]), name="search")


class SearchCold(FastHttpUser):
    """Every request a query no one has asked before (nothing can come from a cache)."""

    @task
    def search(self) -> None:
        with _cold_lock:
            path = next(_cold, None)
        if path is None:  # more requests than planned: fall back to the mix, named apart
            self.client.get(random.choice(PLAN["search_mix"]), name="search-cold-exhausted")
        else:
            self.client.get(path, name="search-cold")


class Course(FastHttpUser):
    @task
    def course(self) -> None:
        self.client.get(random.choice(PLAN["course_paths"]), name="course")


class Learning(FastHttpUser):
    """A signed-in learner opening My learning (each user holds one learner's session)."""

    def on_start(self) -> None:
        self.cookie = next(_learners)

    @task
    def my_learning(self) -> None:
        with self.client.get(
            "/my-learning", name="my-learning", headers={"Cookie": self.cookie},
            allow_redirects=False, catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"status {response.status_code} (not signed in?)")
