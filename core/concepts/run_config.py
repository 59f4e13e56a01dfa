"""A discovery run's parameters and the state its stages share.

One seed governs the run: every random choice (the split of self-play games, the
order of positions, the weaker network's searches, the students, the train/test
splits, the random-vector baseline, the controls) is derived from
``DiscoveryConfig.seed`` and a fixed tag of the choice, so the same seed gives the
same concepts however the run was started (command line or Discovery screen).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils
from conceptcoach.concepts.candidates import CandidateParams
from conceptcoach.concepts.rollouts import PLAYERS, POLARITIES, RolloutParams
from conceptcoach.concepts.teachability import TeachParams
from conceptcoach.engine.summary import TreeSummary
from conceptcoach.parallel import Backend, LocalBackend
from conceptcoach.progress import Cancelled, ProgressFn, StopFn
from conceptcoach.store.networks import Network

STAGES = ("import", "selfplay", "candidates", "discovery", "prototypes", "teachability", "novelty", "write",
          "verify")


@dataclass(frozen=True)
class DiscoveryConfig:
    """Every parameter of a discovery run; stored with the run and with each concept."""

    teacher: str = "teacher"
    weaker: str | None = None  # default: the network with role 'weaker'
    students: tuple[str, ...] = ()  # default: networks with role 'student', by training step
    human_pgn: tuple[str, ...] = ()  # PGN files imported first
    human_corpus: str | None = None  # novelty against this corpus (default: every human game)
    selfplay_games: int = 40
    selfplay_sims: int = 100
    selfplay_max_plies: int = 200
    prototype_game_fraction: float = 0.5  # games kept apart for prototypes, never used for discovery
    max_candidate_positions: int = 200  # positions searched by the weaker network
    max_pool_positions: int = 600  # prototype pool positions
    candidate: CandidateParams = field(default_factory=CandidateParams)
    rollout: RolloutParams = field(default_factory=RolloutParams)
    layers: tuple[str, ...] = ()  # default: an early, a middle and the last block
    players: tuple[str, ...] = PLAYERS
    polarities: tuple[str, ...] = POLARITIES
    solver: str = "fast"
    slack_penalty: float | None = None
    prototype_margin: float = 0.0  # a pool tree is a prototype if every row scores above this
    max_prototypes: int = 60
    teach: TeachParams = field(default_factory=TeachParams)
    max_teach: int = 400  # concepts taken to teachability (most prototypes first)
    novelty_positions: int = 1024
    novelty_informative: float = 0.01  # grid sizes where a basis explains less than this are not compared
    controls: int = 4  # failed concepts kept as control items
    static_themes: tuple[str, ...] = ()  # known themes (concepts.known_ideas.THEMES) as static concepts
    static_positions: int = 1000  # labelled positions per class
    static_pairs: int = 1200
    static_top_fraction: float = 0.025  # static prototypes: the top-scoring pool positions
    #: Parallel processes of the local pool (on Ray: the size of a local Ray instance
    #: when no address is given; a cluster's size is its own).
    workers: int = 2
    #: Where independent work runs: ``local`` (a process pool, the default) or ``ray``.
    backend: str = "local"
    #: The Ray cluster to join (``host:port``, ``auto``, ``ray://host:port``); None: a
    #: Ray instance of ``workers`` CPUs on this machine.
    ray_address: str | None = None
    #: Stockfish depth for verifying every written prototype (0: leave them unverified).
    verify_depth: int = 16
    verify_margin_cp: int = 30
    #: The one seed of the run (see the module docstring).
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> dict[str, Any]:
        """The parameters that decide what the run finds: every field but how it is
        executed (:data:`EXECUTION_FIELDS`), so a run started on one back end resumes on
        another, or with more workers."""
        return {k: v for k, v in self.to_dict().items() if k not in EXECUTION_FIELDS}

    def concept_seed(self, source_fen: str, program: str) -> int:
        """The seed of one concept's student training: a resumed run teaches it as the first would."""
        return self.seed + int(hashlib.sha256(f"{source_fen}|{program}".encode()).hexdigest()[:8], 16)

    def search_seed(self, position_id: int) -> int:
        """The seed of the weaker network's search of one position."""
        return self.seed * 1_000_003 + position_id


#: Fields of :class:`DiscoveryConfig` that say how a run is executed, never what it
#: finds: left out of its id and its stored parameters.
EXECUTION_FIELDS = ("workers", "backend", "ray_address")


def run_id_for(config: DiscoveryConfig, teacher_sha: str) -> str:
    key = hashlib.sha256(json.dumps(config.identity(), sort_keys=True).encode()).hexdigest()[:10]
    return f"discovery-{teacher_sha[:8]}-seed{config.seed}-{key}"


def program_key(layer: str, players: str, polarity: str) -> str:
    return f"{layer}/{players}/{polarity}"


@dataclass
class DiscoveryRun:
    """What every stage of one run reads: the store, the parameters, the teacher, progress."""

    db: sqlite_utils.Database
    db_path: str
    config: DiscoveryConfig
    run_id: str
    teacher: Network
    layers: list[str]
    progress: ProgressFn
    should_stop: StopFn
    #: Where the stages' independent tasks run (``run_discovery`` opens and closes it).
    backend: Backend = field(default_factory=LocalBackend)
    selfplay_run: str = ""
    log: list[str] = field(default_factory=list)

    def check(self, what: str) -> None:
        if self.should_stop():
            raise Cancelled(f"{what} stopped; run the same command again to resume run {self.run_id}")


@dataclass
class PoolItem:
    """A prototype-pool position: never used for discovery, searched by the teacher."""

    pid: int
    gid: int
    summary: TreeSummary
